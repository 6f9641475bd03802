import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import GatewayUpstreams

@Suite struct RegistryTests {
    func config(_ upstreams: UpstreamSettings...) -> GatewayConfiguration {
        GatewayConfiguration(upstreams: upstreams)
    }

    @Test func reloadKeepsStateOfUnchangedReplicas() {
        let clock = ManualClock()
        let registry = UpstreamRegistry(configuration: config(upstream(ports: [1, 2, 3])), clock: clock.clock)
        let group = try! #require(registry.group(named: "app"))
        let one = group.replica(port: 1)
        let two = group.replica(port: 2)
        let three = group.replica(port: 3)
        for _ in 0..<3 {
            one.requestStarted()
            one.requestFinished(.connectFailure)
        }
        two.requestStarted()
        three.requestStarted()
        #expect(one.state == .ejected)

        registry.apply(config(upstream(ports: [1, 2, 4], weights: [1, 3, 1])))
        #expect(registry.group(named: "app") === group)
        #expect(group.replica(port: 1) === one)
        #expect(one.state == .ejected, "health survives the reload")
        #expect(two.inFlight == 1)
        #expect(two.weight == 3)
        #expect(three.state == .draining)
        #expect(group.replicas.map(\.port) == [1, 2, 4, 3])
        let four = group.replica(port: 4)
        #expect(four.index == 3, "indexes are not reused")
        #expect(!group.ports(20).contains(3))
        three.requestFinished(.success)
        #expect(group.replicas.map(\.port) == [1, 2, 4])
        #expect(three.state == .draining)
        two.requestFinished(.success)
        #expect(two.inFlight == 0)
    }

    @Test func removedUpstreamsRetireAndNewOnesAppear() {
        let registry = UpstreamRegistry(configuration: config(upstream("a", ports: [1]), upstream("b", ports: [2])))
        let a = registry.group(named: "a")!
        let replica = a.replica(port: 1)
        registry.apply(config(upstream("b", ports: [2]), upstream("c", ports: [3])))
        #expect(registry.group(named: "a") == nil)
        #expect(registry.groups.map(\.name) == ["b", "c"])
        #expect(replica.state == .draining)
        #expect(a.pick(anyClient) == nil)
    }

    @Test func aReAddedUrlLeavesDraining() {
        let registry = UpstreamRegistry(configuration: config(upstream(ports: [1, 2])))
        let group = registry.group(named: "app")!
        let two = group.replica(port: 2)
        two.requestStarted()
        registry.apply(config(upstream(ports: [1])))
        #expect(two.state == .draining)
        registry.apply(config(upstream(ports: [1, 2])))
        #expect(two.state == .healthy)
        #expect(two.inFlight == 1)
    }

    @Test func snapshotJSONHasTheSpecShape() throws {
        let clock = ManualClock()
        var health = HealthCheckSettings()
        health.unhealthyAfter = 1
        let registry = UpstreamRegistry(
            configuration: config(upstream(ports: [9001, 9002], weights: [1, 2], health: health)), clock: clock.clock)
        let group = registry.group(named: "app")!
        group.replica(port: 9001).recordHealthCheck(
            HealthCheckRecord(at: Date(timeIntervalSince1970: 1_795_196_400), ok: true, status: 200))
        group.replica(port: 9002).requestStarted()
        for _ in 0..<3 {
            group.replica(port: 9002).requestStarted()
            group.replica(port: 9002).requestFinished(.badStatus(502))
        }
        let json = registry.snapshotJSON()
        #expect(
            json
                == "{\"upstreams\": {\"app\": {\"balance\": \"round_robin\", \"replicas\": ["
                + "{\"url\": \"http://127.0.0.1:9001\", \"weight\": 1, \"state\": \"healthy\", \"in_flight\": 0, "
                + "\"consecutive_failures\": 0, \"last_check\": {\"at\": \"2026-11-20T17:40:00Z\", \"ok\": true, "
                + "\"status\": 200, \"error\": null}, \"ejected_until\": null}, "
                + "{\"url\": \"http://127.0.0.1:9002\", \"weight\": 2, \"state\": \"ejected\", \"in_flight\": 1, "
                + "\"consecutive_failures\": 0, \"last_check\": null, \"ejected_until\": \"2026-11-18T11:06:50Z\"}]}}}"
        )
        // It parses as JSON.
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(object?["upstreams"] != nil)
    }

    @Test func forEachReplicaAndStateChanges() {
        let changes = NIOLockedValueBox<[ReplicaStateChange]>([])
        var passive = PassiveHealthSettings()
        passive.failures = 1
        let registry = UpstreamRegistry(
            configuration: config(upstream("a", ports: [1, 2], passive: passive), upstream("b", ports: [3])),
            onStateChange: { change in changes.withLockedValue { $0.append(change) } })
        registry.group(named: "a")!.replica(port: 2).requestStarted()
        registry.group(named: "a")!.replica(port: 2).requestFinished(.connectFailure)
        var seen: [String] = []
        registry.forEachReplica { upstream, replica, state in seen.append("\(upstream) \(replica.port) \(state)") }
        #expect(seen == ["a 1 healthy", "a 2 ejected", "b 3 healthy"])
        registry.apply(config(upstream("a", ports: [1, 2], passive: passive)))
        let log = changes.withLockedValue { $0 }.map(\.description)
        #expect(
            log == [
                "upstream a replica http://127.0.0.1:2: healthy -> ejected: 1 failed request in a row (last: connect failure); out for 10s",
            ])
    }

    @Test func concurrentUseIsSafe() async {
        let registry = UpstreamRegistry(configuration: config(upstream(balance: .leastConn, ports: [1, 2, 3])))
        let group = registry.group(named: "app")!
        await withTaskGroup(of: Void.self) { tasks in
            for worker in 0..<4 {
                tasks.addTask {
                    for n in 0..<2_000 {
                        guard let pick = group.pick(BalancerContext(clientIP: "10.0.\(worker).\(n % 256)")) else { continue }
                        pick.replica.requestStarted()
                        pick.replica.requestFinished(.success)
                    }
                }
            }
            tasks.addTask {
                for n in 0..<50 { registry.apply(self.config(upstream(balance: .leastConn, ports: n % 2 == 0 ? [1, 2] : [1, 2, 3]))) }
            }
        }
        #expect(group.replicas.allSatisfy { $0.inFlight == 0 })
    }
}
