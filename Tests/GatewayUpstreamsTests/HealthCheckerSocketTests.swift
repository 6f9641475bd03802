import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import GatewayUpstreams

/// A tiny HTTP server: answers each request with the next status of `statuses` (the last one repeats),
/// records the request heads and closes.
final class ScriptedHTTPServer: Sendable {
    let requests = NIOLockedValueBox<[String]>([])
    let statuses: [Int]
    private let channel: NIOLockedValueBox<(any Channel)?> = NIOLockedValueBox(nil)

    init(statuses: [Int]) { self.statuses = statuses }

    func start(group: any EventLoopGroup) async throws -> Int {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Responder(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLockedValue { $0 = server }
        return server.localAddress!.port!
    }

    func stop() async throws {
        try await channel.withLockedValue { $0 }?.close().get()
    }

    /// Records a request head and returns the status to answer.
    func next(_ head: String) -> Int {
        requests.withLockedValue { requests in
            requests.append(head)
            return statuses[min(requests.count - 1, statuses.count - 1)]
        }
    }

    final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let server: ScriptedHTTPServer
        var received = ""
        var answered = false

        init(server: ScriptedHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received += String(buffer: buffer)
            guard !answered, received.contains("\r\n\r\n") else { return }
            answered = true
            let status = server.next(received)
            let response = "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).whenComplete {
                [channel = context.channel] _ in channel.close(promise: nil)
            }
        }
    }
}

@Suite(.serialized) struct HealthCheckerSocketTests {
    func health(interval: Duration = .milliseconds(100)) -> HealthCheckSettings {
        var health = HealthCheckSettings()
        health.path = "/health"
        health.interval = interval
        health.timeout = .milliseconds(500)
        health.unhealthyAfter = 2
        health.healthyAfter = 1
        return health
    }

    func waitUntil(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func healthyThenUnhealthyAfterFailedChecks() async throws {
        let elg = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = ScriptedHTTPServer(statuses: [200, 200, 503])
        let port = try await server.start(group: elg)
        let registry = UpstreamRegistry(
            configuration: GatewayConfiguration(upstreams: [upstream(ports: [port], health: health())]))
        let replica = registry.group(named: "app")!.replicas[0]
        let checker = HealthChecker(registry: registry)
        checker.start(group: elg)

        #expect(await waitUntil { replica.state == .unhealthy })
        let requests = server.requests.withLockedValue { $0 }
        #expect(requests.count >= 4, "2 passes then 2 failures")
        #expect(requests.first?.hasPrefix("GET /health HTTP/1.1\r\n") == true)
        #expect(requests.first?.contains("Host: 127.0.0.1:\(port)\r\n") == true)
        #expect(requests.first?.contains("Connection: close\r\n") == true)
        let snapshot = registry.snapshot().upstreams[0].replicas[0]
        #expect(snapshot.lastCheck?.ok == false)
        #expect(snapshot.lastCheck?.status == 503)
        #expect(registry.snapshotJSON().contains("\"status\": 503"))

        await checker.stop()
        let afterStop = server.requests.withLockedValue { $0.count }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.requests.withLockedValue { $0.count } == afterStop, "no checks after stop()")
        try await server.stop()
        try await elg.shutdownGracefully()
    }

    @Test func connectErrorsFailAndReconcileFollowsReloads() async throws {
        let elg = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let good = ScriptedHTTPServer(statuses: [200])
        let goodPort = try await good.start(group: elg)
        // A port that was just free: connecting is refused.
        let closed = ScriptedHTTPServer(statuses: [200])
        let deadPort = try await closed.start(group: elg)
        try await closed.stop()

        let registry = UpstreamRegistry(
            configuration: GatewayConfiguration(upstreams: [upstream(ports: [deadPort, goodPort], health: health())]))
        let group = registry.group(named: "app")!
        let dead = group.replica(port: deadPort)
        let checker = HealthChecker(registry: registry)
        checker.start(group: elg)
        #expect(checker.activeJobCount == 2)
        #expect(await waitUntil { dead.state == .unhealthy })
        #expect(group.replica(port: goodPort).state == .healthy)
        #expect(group.pick(anyClient)?.replica.port == goodPort)

        // Reload: the dead replica goes away, the good one keeps its loop and state.
        registry.apply(GatewayConfiguration(upstreams: [upstream(ports: [goodPort], health: health(interval: .milliseconds(50)))]))
        checker.reconcile()
        #expect(checker.activeJobCount == 1)
        // Without a health block, no loops.
        registry.apply(GatewayConfiguration(upstreams: [upstream(ports: [goodPort])]))
        checker.reconcile()
        #expect(checker.activeJobCount == 0)

        await checker.stop()
        try await good.stop()
        try await elg.shutdownGracefully()
    }
}
