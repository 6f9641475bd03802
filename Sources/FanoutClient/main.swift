#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

// fanout-client: the load generator of scripts/bench/fanout.sh (WebSocket pub/sub fan-out through the gateway).
// Setup (connecting, waiting, reporting) is async code; the per-message work happens in the NIO handlers.

/// Unbuffered line output (stdout is usually a file or pipe read by the benchmark script).
func writeLine(_ text: String, fd: Int32) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

func log(_ text: String) { writeLine("fanout-client: \(text)", fd: 2) }

/// User + system CPU time of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return value(usage.ru_utime) + value(usage.ru_stime)
}

/// Milliseconds-rounded seconds since `start` (uptime ns), for progress lines.
func seconds(since start: UInt64) -> Double {
    (Double(NIODeadline.now().uptimeNanoseconds - start) / 1e6).rounded() / 1e3
}

let options = FanoutCommand.parseOrExit().options

let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
let loops = Array(group.makeIterator())

do {
    let stats = try await FanoutStats.make(for: group)

    /// Connection `index` of a kind: its loop and port are picked round-robin.
    @Sendable func dial(
        _ index: Int, ports: [Int], path: String, _ makeHandler: @escaping @Sendable (Channel, EventLoopPromise<Void>) -> any ChannelHandler
    ) -> EventLoopFuture<Channel> {
        WebSocketDialer.connect(
            host: options.host, port: ports[index % ports.count], path: path, on: loops[index % loops.count]
        ) { channel, ready in
            try channel.pipeline.syncOperations.addHandler(makeHandler(channel, ready))
        }
    }
    let sampleEvery = options.sampleEvery

    var started = NIODeadline.now().uptimeNanoseconds
    let idle = try await WebSocketDialer.openAll(count: options.idle, concurrency: options.connectConcurrency) { index in
        dial(index, ports: options.idlePorts, path: "/ws") { channel, ready in
            SubscriberHandler(role: .idle, stats: stats.local(channel.eventLoop), ready: ready, sampleEvery: sampleEvery)
        }
    }
    if options.idle > 0 { log("\(idle.count) idle connections open in \(seconds(since: started)) s") }

    started = NIODeadline.now().uptimeNanoseconds
    let subscribers = try await WebSocketDialer.openAll(
        count: options.subscribers, concurrency: options.connectConcurrency
    ) { index in
        dial(index, ports: options.ports, path: "/ws?subscribe=" + options.room(index)) { channel, ready in
            SubscriberHandler(role: .subscriber, stats: stats.local(channel.eventLoop), ready: ready, sampleEvery: sampleEvery)
        }
    }
    if options.subscribers > 0 { log("\(subscribers.count) subscribers ready in \(seconds(since: started)) s") }

    var publisherChannel: Channel?
    if options.rate > 0 {
        let publisher = try await dial(0, ports: [options.publishPort ?? options.ports[0]], path: "/ws") { channel, ready in
            PublisherHandler(stats: stats.local(channel.eventLoop), ready: ready)
        }.get()
        publisherChannel = publisher
        // The gateway confirms a subscription before its Redis SUBSCRIBE has been answered: give that a moment.
        try await Task.sleep(for: .milliseconds(500))

        let cpuAtStart = cpuSeconds()
        let tick = TimeAmount.nanoseconds(Int64(options.tickMilliseconds * 1e6))
        let result = try await publisher.eventLoop.flatSubmit {
            do {
                return try publisher.pipeline.syncOperations.handler(type: PublisherHandler.self)
                    .run(channel: options.channel, rooms: options.rooms, rate: options.rate, duration: options.duration,
                         tick: tick)
            } catch {
                return publisher.eventLoop.makeFailedFuture(error)
            }
        }.get()

        // Wait for the last deliveries (or give up after the drain time: slow subscribers were closed).
        let expected = options.expectedDeliveries(sent: result.sent)
        let drainEnd = NIODeadline.now() + .nanoseconds(Int64(options.drainSeconds * 1e9))
        var snapshot = try await stats.snapshot()
        while snapshot.delivered < expected, NIODeadline.now() < drainEnd {
            try await Task.sleep(for: .milliseconds(20))
            snapshot = try await stats.snapshot()
        }
        try await stats.markStopping()
        snapshot = try await stats.snapshot(withSamples: true)
        let window =
            snapshot.lastDeliveryNanoseconds > result.startNanoseconds
            ? Double(snapshot.lastDeliveryNanoseconds - result.startNanoseconds) / 1e9 : 0
        let report = FanoutReport(
            options: options, sent: result.sent,
            publishSeconds: Double(result.endNanoseconds - result.startNanoseconds) / 1e9,
            snapshot: snapshot, windowSeconds: window, cpuSeconds: cpuSeconds() - cpuAtStart)
        writeLine(report.jsonLine, fd: 1)
    }

    if options.hold {
        writeLine("{\"idle_open\":\(idle.count)}", fd: 1)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
    try await stats.markStopping()
    for channel in idle + subscribers + (publisherChannel.map { [$0] } ?? []) {
        channel.close(promise: nil)
    }
    try await group.shutdownGracefully()
} catch {
    log("\(error)")
    exit(1)
}
