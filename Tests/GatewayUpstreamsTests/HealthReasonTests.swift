import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import GatewayUpstreams

/// Issue 18 #5: health transitions and `/upstreams` say why a replica failed.
@Suite struct HealthReasonTests {
    @Test func activeTransitionCarriesTheLastCheckError() {
        var health = HealthCheckSettings()
        health.unhealthyAfter = 2
        let changes = NIOLockedValueBox<[ReplicaStateChange]>([])
        let group = UpstreamGroup(
            settings: upstream(ports: [1], health: health), clock: ManualClock().clock,
            onStateChange: { change in changes.withLockedValue { $0.append(change) } })
        let one = group.replica(port: 1)
        for _ in 0..<2 {
            one.recordHealthCheck(
                HealthCheckRecord(at: ManualClock.wallBase, ok: false, status: nil, error: "connection refused (127.0.0.1:1)"))
        }
        let change = changes.withLockedValue { $0.first }
        #expect(change?.to == .unhealthy)
        #expect(
            change?.description
                == "upstream app replica http://127.0.0.1:1: healthy -> unhealthy: 2 failed checks of GET /health, last: connection refused (127.0.0.1:1)")
    }

    @Test func upstreamsJSONShowsTheCheckError() {
        let replica = UpstreamsSnapshot.ReplicaSnapshot(
            url: "http://127.0.0.1:1", weight: 1, state: .unhealthy, inFlight: 0, consecutiveFailures: 0,
            lastCheck: HealthCheckRecord(at: ManualClock.wallBase, ok: false, status: nil, error: "no answer within 1s"),
            ejectedUntil: nil)
        let snapshot = UpstreamsSnapshot(
            upstreams: [.init(name: "app", balance: "round_robin", replicas: [replica])])
        #expect(snapshot.json().contains("\"ok\": false, \"status\": null, \"error\": \"no answer within 1s\"}"))
    }

    @Test func probeOfAClosedPortSaysConnectionRefused() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // A port that was just free: bind, read the port, close.
        let listener = try await ServerBootstrap(group: loops).bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress!.port!
        try await listener.close()
        let result = try await HealthProbe.run(
            host: "127.0.0.1", port: port, path: "/health", timeout: .seconds(5), on: loops.next()
        ).get()
        try await loops.shutdownGracefully()
        #expect(result.ok == false)
        #expect(result.error == "connection refused (127.0.0.1:\(port))")
    }
}
