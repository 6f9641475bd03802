import GatewayConfig
import Testing

@testable import GatewayUpstreams

@Suite struct DrainTests {
    @Test func drainedReplicaGetsNoNewRequestsAndFinishesItsOwn() {
        let registry = UpstreamRegistry(configuration: GatewayConfiguration(upstreams: [upstream(ports: [1, 2])]))
        let group = registry.group(named: "app")!
        let one = group.replica(port: 1)
        one.requestStarted()
        #expect(registry.setDrained(upstream: "app", position: 0, true) == .changed(.draining))
        #expect(one.state == .draining)
        #expect(Set(group.ports(20)) == [2])
        #expect(registry.snapshot().upstreams[0].replicas[0].state == .draining)
        #expect(registry.snapshot().upstreams[0].replicas[0].inFlight == 1)
        one.requestFinished(.success)
        #expect(group.replicas.count == 2, "an operator drain keeps the replica configured")
        #expect(registry.setDrained(upstream: "app", position: 0, false) == .changed(.healthy))
        #expect(Set(group.ports(20)) == [1, 2])
    }

    @Test func drainSurvivesAReloadThatKeepsTheUrl() {
        let registry = UpstreamRegistry(configuration: GatewayConfiguration(upstreams: [upstream(ports: [1, 2])]))
        _ = registry.setDrained(upstream: "app", position: 1, true)
        registry.apply(GatewayConfiguration(upstreams: [upstream(ports: [1, 2, 3])]))
        let group = registry.group(named: "app")!
        #expect(group.replica(port: 2).state == .draining)
        #expect(Set(group.ports(30)) == [1, 3])
    }

    @Test func everyReplicaDrainedMeansNoPick() {
        let registry = UpstreamRegistry(configuration: GatewayConfiguration(upstreams: [upstream(balance: .ipHash, ports: [1])]))
        _ = registry.setDrained(upstream: "app", position: 0, true)
        #expect(registry.group(named: "app")!.pick(anyClient) == nil)
    }

    @Test func unknownTargetsAreReported() {
        let registry = UpstreamRegistry(configuration: GatewayConfiguration(upstreams: [upstream(ports: [1])]))
        #expect(registry.setDrained(upstream: "nope", position: 0, true) == .noSuchUpstream)
        #expect(registry.setDrained(upstream: "app", position: 1, true) == .noSuchReplica)
        #expect(registry.setDrained(upstream: "app", position: -1, true) == .noSuchReplica)
    }

    @Test func aReplicaRemovedByReloadCannotBeUndrained() {
        let registry = UpstreamRegistry(configuration: GatewayConfiguration(upstreams: [upstream(ports: [1, 2])]))
        let group = registry.group(named: "app")!
        group.replica(port: 2).requestStarted()
        registry.apply(GatewayConfiguration(upstreams: [upstream(ports: [1])]))
        #expect(registry.setDrained(upstream: "app", position: 1, false) == .removedByReload)
    }
}
