import GatewayConfig
import Testing

@testable import GatewayUpstreams

/// `panic_threshold` (SPEC §13): below the threshold share of healthy replicas, all replicas are candidates.
@Suite struct PanicModeTests {
    func eject(_ replica: Replica) {
        for _ in 0..<3 {
            replica.requestStarted()
            replica.requestFinished(.connectFailure)
        }
    }

    @Test func thresholdArithmetic() {
        #expect(!PanicMode.isActive(healthy: 0, configured: 2, threshold: nil))
        #expect(PanicMode.isActive(healthy: 0, configured: 2, threshold: 0.5))
        #expect(!PanicMode.isActive(healthy: 1, configured: 2, threshold: 0.5))
        #expect(PanicMode.isActive(healthy: 1, configured: 3, threshold: 0.5))
        #expect(!PanicMode.isActive(healthy: 0, configured: 0, threshold: 0.5))
        #expect(!PanicMode.isActive(healthy: 0, configured: 2, threshold: 0))
    }

    @Test func withoutAThresholdNoHealthyReplicaMeansNoPick() {
        let group = UpstreamGroup(settings: upstream(ports: [1, 2]))
        eject(group.replica(port: 1))
        eject(group.replica(port: 2))
        #expect(group.pick(anyClient) == nil)
    }

    @Test func belowTheThresholdEveryReplicaIsACandidate() throws {
        var settings = upstream(ports: [1, 2, 3, 4])
        settings.panicThreshold = 0.5
        let group = UpstreamGroup(settings: settings)
        eject(group.replica(port: 1))
        eject(group.replica(port: 2))
        // 2 of 4 healthy: not below 50%, the healthy ones only.
        #expect(Set(group.ports(8)) == [3, 4])
        #expect(group.pick(anyClient)?.panic == false)
        eject(group.replica(port: 3))
        // 1 of 4: panic, balanced over all four.
        let picks = (0..<8).compactMap { _ in group.pick(anyClient) }
        #expect(picks.allSatisfy { $0.panic })
        #expect(Set(picks.map(\.replica.port)) == [1, 2, 3, 4])
        // Replicas already tried are still excluded.
        let excluded = [group.replica(port: 1).index, group.replica(port: 2).index, group.replica(port: 3).index]
        #expect(group.pick(anyClient, excluding: excluded)?.replica.port == 4)
    }
}
