import ArgumentParser

/// The settings of one `fanout-client` run (parsed from the command line by ``FanoutCommand``).
///
/// ```
/// fanout-client --ports 8080,8081 --subscribers 200 --rate 500 --duration 10
/// fanout-client --ports 8080 --idle 10000 --hold      # idle connections only, held until killed
/// fanout-client --ports 8080,8081 --subscribers 10000 --rooms 100 --rate 1000   # 100 rooms of 100
/// ```
struct FanoutOptions: Sendable, Equatable {
    var host = "127.0.0.1"
    /// Gateway ports; subscribers are spread over them round-robin, the publisher and idle connections use
    /// `publishPort` / `idlePorts`.
    var ports: [Int] = []
    var channel = "bench:fan"
    var subscribers = 0
    /// Rooms (channels) the subscribers are spread over: 1 = everyone on `channel`; R > 1 = subscriber i on
    /// `channel:(i mod R)`, and message k is published to `channel:(k mod R)` (presence with many clients: SPEC §9).
    var rooms = 1
    /// Messages per second published (0 = no publisher).
    var rate = 0.0
    /// Seconds of publishing.
    var duration = 10.0
    /// Publisher timer period in milliseconds; each tick sends every message that has become due since the last one.
    var tickMilliseconds = 5.0
    /// Every subscriber parses the timestamp of every Nth message it receives (latency sample).
    var sampleEvery = 10
    /// Idle connections (upgraded, no subscription), opened before the subscribers.
    var idle = 0
    /// Where the publisher connects (default: the first port).
    var publishPort: Int?
    /// Where idle connections go (default: all ports, round-robin).
    var idlePorts: [Int] = []
    /// After publishing ends, how long to wait for the last deliveries.
    var drainSeconds = 5.0
    /// Event-loop threads of the client itself.
    var threads = 1
    /// Connections being opened at once.
    var connectConcurrency = 64
    /// After opening the idle connections (and the fan-out run, if any), print `{"idle_open":N}` and keep every
    /// connection open until the process is killed.
    var hold = false
}

/// The command line of `fanout-client`.
struct FanoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout-client",
        abstract: "WebSocket pub/sub fan-out load generator for the gateway (SPEC §5).",
        discussion: """
            Opens N subscribers of CHANNEL spread round-robin over the ports (/ws?subscribe=CHANNEL, each waits for \
            its `subscribed` frame), optionally M idle connections, then publishes {"t":<ns>,"n":k} at RATE \
            messages/s for DURATION seconds through one more connection, and prints one JSON line: sent, expected, \
            delivered, deliveries/s, publish→receive latency p50/p99.
            """)

    @Option(help: "Gateway host.") var host = "127.0.0.1"
    @Option(name: [.customLong("ports"), .customLong("port")], help: "Gateway ports, comma-separated.",
            transform: FanoutCommand.ports)
    var ports: [Int]
    @Option(help: "The channel to subscribe and publish.") var channel = "bench:fan"
    @Option(help: "Subscriber connections.") var subscribers = 0
    @Option(help: "Rooms: subscriber i joins CHANNEL:(i mod R), message k goes to CHANNEL:(k mod R) (1 = CHANNEL only).")
    var rooms = 1
    @Option(help: "Messages per second published (0 = no publisher).") var rate = 0.0
    @Option(help: "Seconds of publishing.") var duration = 10.0
    @Option(name: .customLong("tick-ms"), help: "Publisher timer period (ms); each tick sends what has become due.")
    var tickMilliseconds = 5.0
    @Option(help: "Every subscriber samples the latency of every Nth message.") var sampleEvery = 10
    @Option(help: "Idle connections (upgraded, no subscription), opened before the subscribers.") var idle = 0
    @Option(help: "Ports for the idle connections (default: --ports).", transform: FanoutCommand.ports)
    var idlePorts: [Int] = []
    @Option(help: "Port of the publisher (default: the first port).") var publishPort: Int?
    @Option(name: .customLong("drain"), help: "Seconds to wait for the last deliveries after publishing.")
    var drainSeconds = 5.0
    @Option(help: "Event-loop threads of the client.") var threads = 1
    @Option(help: "Connections being opened at once.") var connectConcurrency = 64
    @Flag(help: "After the run, print {\"idle_open\":N} and keep every connection open until killed.")
    var hold = false

    static func ports(_ text: String) throws -> [Int] {
        let ports = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        guard !ports.isEmpty, ports.allSatisfy({ (1...65535).contains($0) }) else {
            throw ValidationError("invalid port list '\(text)'")
        }
        return ports
    }

    func validate() throws {
        guard (0...1_000_000).contains(subscribers), (0...1_000_000).contains(idle) else {
            throw ValidationError("--subscribers and --idle must be within 0…1000000")
        }
        guard rate >= 0, rate.isFinite, duration >= 0, duration.isFinite, drainSeconds >= 0, drainSeconds.isFinite else {
            throw ValidationError("--rate, --duration and --drain must be finite and ≥ 0")
        }
        guard (1...100_000).contains(rooms) else { throw ValidationError("--rooms must be within 1…100000") }
        guard (1...1_000_000).contains(sampleEvery), (1...64).contains(threads),
            (1...10_000).contains(connectConcurrency)
        else {
            throw ValidationError("--sample-every 1…1000000, --threads 1…64, --connect-concurrency 1…10000")
        }
        if let publishPort, !(1...65535).contains(publishPort) { throw ValidationError("invalid --publish-port") }
    }

    var options: FanoutOptions {
        var options = FanoutOptions()
        options.host = host
        options.ports = ports
        options.channel = channel
        options.subscribers = subscribers
        options.rooms = rooms
        options.rate = rate
        options.duration = duration
        options.tickMilliseconds = max(0.1, tickMilliseconds)
        options.sampleEvery = sampleEvery
        options.idle = idle
        options.publishPort = publishPort
        options.idlePorts = idlePorts.isEmpty ? ports : idlePorts
        options.drainSeconds = drainSeconds
        options.threads = threads
        options.connectConcurrency = connectConcurrency
        options.hold = hold
        return options
    }
}

extension FanoutOptions {
    /// The channel of subscriber (or message) `index`.
    func room(_ index: Int) -> String { rooms == 1 ? channel : channel + ":" + String(index % rooms) }

    /// Subscribers in room `room` (subscriber i is in room i mod `rooms`).
    func subscribers(inRoom room: Int) -> Int { subscribers / rooms + (room < subscribers % rooms ? 1 : 0) }

    /// Deliveries `sent` messages make (message k reaches the subscribers of room k mod `rooms`).
    func expectedDeliveries(sent: Int) -> Int {
        guard rooms > 1 else { return sent * subscribers }
        var total = 0
        for room in 0..<min(rooms, sent) {
            let messages = sent / rooms + (room < sent % rooms ? 1 : 0)
            total += messages * subscribers(inRoom: room)
        }
        return total
    }
}
