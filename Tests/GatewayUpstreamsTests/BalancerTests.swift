import GatewayConfig
import Testing

@testable import GatewayUpstreams

@Suite struct BalancerTests {
    @Test func smoothWeightedRoundRobinMatchesNginx() {
        // nginx's documented example: weights 5, 1, 1 → a a b a c a a.
        let group = UpstreamGroup(settings: upstream(ports: [1, 2, 3], weights: [5, 1, 1]))
        #expect(group.ports(7) == [1, 1, 2, 1, 3, 1, 1])
        #expect(group.ports(7) == [1, 1, 2, 1, 3, 1, 1])
    }

    @Test func smoothWeightedRoundRobinWeightsOneAndTwo() {
        let group = UpstreamGroup(settings: upstream(ports: [1, 2], weights: [1, 2]))
        #expect(group.ports(6) == [2, 1, 2, 2, 1, 2])
        let many = group.ports(3000)
        #expect(many.filter { $0 == 1 }.count == 1000)
        #expect(many.filter { $0 == 2 }.count == 2000)
    }

    @Test func roundRobinSkipsExcludedAndUnavailable() {
        let group = UpstreamGroup(settings: upstream(ports: [1, 2, 3]))
        let first = group.replica(port: 1)
        let second = group.pick(anyClient, excluding: [first.index, group.replica(port: 2).index])
        #expect(second?.replica.port == 3)
        #expect(group.pick(anyClient, excluding: group.replicas.map(\.index)) == nil)
    }

    @Test func leastConnPrefersIdleReplicas() {
        let group = UpstreamGroup(settings: upstream(balance: .leastConn, ports: [1, 2, 3]))
        group.replica(port: 1).requestStarted()
        group.replica(port: 1).requestStarted()
        group.replica(port: 2).requestStarted()
        #expect(group.pick(anyClient)?.replica.port == 3)
        group.replica(port: 3).requestStarted()
        // 2 and 3 have one each, 1 has two: ties between 2 and 3 alternate.
        let picks = Set(group.ports(4))
        #expect(picks == [2, 3])
    }

    @Test func leastConnSpreadsTiesRoundRobin() {
        let group = UpstreamGroup(settings: upstream(balance: .leastConn, ports: [1, 2, 3]))
        let picks = group.ports(6)
        #expect(picks.filter { $0 == 1 }.count == 2)
        #expect(picks.filter { $0 == 2 }.count == 2)
        #expect(picks.filter { $0 == 3 }.count == 2)
    }

    @Test func leastConnIsRelativeToWeight() {
        let group = UpstreamGroup(settings: upstream(balance: .leastConn, ports: [1, 2], weights: [1, 4]))
        for _ in 0..<3 { group.replica(port: 2).requestStarted() }
        group.replica(port: 1).requestStarted()
        // 1: 1/1 = 1.0, 2: 3/4 = 0.75.
        #expect(group.pick(anyClient)?.replica.port == 2)
    }

    @Test func randomTwoPrefersIdleReplicas() {
        let group = UpstreamGroup(settings: upstream(balance: .randomTwo, ports: [1, 2, 3, 4]), random: SplitMix64(seed: 42))
        for port in [1, 2, 3] {
            for _ in 0..<5 { group.replica(port: port).requestStarted() }
        }
        let picks = group.ports(1000)
        // 4 wins whenever it is one of the two drawn: probability 1/2.
        let idle = picks.filter { $0 == 4 }.count
        #expect(idle > 400 && idle < 600)
        #expect(Set(picks).count == 4)
    }

    @Test func randomTwoWithOneAvailable() {
        let group = UpstreamGroup(settings: upstream(balance: .randomTwo, ports: [1, 2]), random: SplitMix64(seed: 1))
        #expect(group.pick(anyClient, excluding: [group.replica(port: 1).index])?.replica.port == 2)
    }

    @Test func ipHashIsStickyPerClient() {
        let group = UpstreamGroup(settings: upstream(balance: .ipHash, ports: [1, 2, 3]))
        for n in 0..<50 {
            let context = BalancerContext(clientIP: "192.168.0.\(n)")
            let first = group.pick(context)?.replica.port
            #expect(group.pick(context)?.replica.port == first)
        }
    }

    @Test func consistentHashMovesOnlyTheRemovedReplicasKeys() {
        let four = UpstreamGroup(settings: upstream(balance: .ipHash, ports: [1, 2, 3, 4]))
        let three = UpstreamGroup(settings: upstream(balance: .ipHash, ports: [1, 2, 4]))
        var moved = 0
        var counts: [Int: Int] = [:]
        for n in 0..<10_000 {
            let context = BalancerContext(clientIP: "10.\(n / 65536).\((n / 256) % 256).\(n % 256)")
            let before = four.pick(context)!.replica.port
            let after = three.pick(context)!.replica.port
            counts[before, default: 0] += 1
            if before != after {
                moved += 1
                #expect(before == 3, "only keys of the removed replica may move")
            }
        }
        #expect(moved <= 3_500)
        #expect(moved == counts[3])
        // Virtual nodes keep the spread reasonable (ideal 2500 each).
        for port in [1, 2, 3, 4] { #expect(counts[port, default: 0] > 1_500 && counts[port, default: 0] < 3_500) }
    }

    @Test func consistentHashSkipsUnavailableWithoutReshuffling() {
        let group = UpstreamGroup(settings: upstream(balance: .ipHash, ports: [1, 2, 3, 4]))
        let excluded = group.replica(port: 2).index
        for n in 0..<2_000 {
            let context = BalancerContext(clientIP: "172.16.\(n / 256).\(n % 256)")
            let normal = group.pick(context)!.replica.port
            let without = group.pick(context, excluding: [excluded])!.replica.port
            if normal != 2 { #expect(without == normal) } else { #expect(without != 2) }
        }
    }

    @Test func cookieAffinityIsSticky() {
        let group = UpstreamGroup(settings: upstream(balance: .cookie, ports: [1, 2, 3]))
        let first = group.pick(BalancerContext(clientIP: "1.1.1.1"))!
        let cookie = try! #require(first.setAffinityCookie)
        #expect(!cookie.contains("127.0.0.1"))
        #expect(cookie == first.replica.affinityValue)
        for _ in 0..<10 {
            let again = group.pick(BalancerContext(clientIP: "2.2.2.2", affinityCookie: cookie))!
            #expect(again.replica === first.replica)
            #expect(again.setAffinityCookie == nil)
        }
        // Unknown cookie: round robin, and a new cookie to set.
        let fresh = group.pick(BalancerContext(clientIP: "1.1.1.1", affinityCookie: "bogus"))!
        #expect(fresh.setAffinityCookie == fresh.replica.affinityValue)
        // Cookie names an excluded replica (retry): another one, and the cookie moves.
        let retry = group.pick(BalancerContext(clientIP: "1.1.1.1", affinityCookie: cookie), excluding: [first.replica.index])!
        #expect(retry.replica !== first.replica)
        #expect(retry.setAffinityCookie == retry.replica.affinityValue)
    }

    @Test func affinityValuesAreStableAndDistinct() {
        let a = StableHash.affinityValue(for: "http://127.0.0.1:9001")
        #expect(a == StableHash.affinityValue(for: "http://127.0.0.1:9001"))
        #expect(a != StableHash.affinityValue(for: "http://127.0.0.1:9002"))
        #expect(a.count == 12)
    }

    @Test func pickReturnsNilWhenEverythingIsDown() {
        let clock = ManualClock()
        var passive = PassiveHealthSettings()
        passive.failures = 1
        for strategy in BalanceStrategy.allCases {
            let group = UpstreamGroup(
                settings: upstream(balance: strategy, ports: [1, 2], passive: passive), clock: clock.clock)
            for replica in group.replicas {
                replica.requestStarted()
                replica.requestFinished(.connectFailure)
            }
            #expect(group.pick(BalancerContext(clientIP: "9.9.9.9", affinityCookie: "x")) == nil, "\(strategy)")
        }
        let empty = UpstreamGroup(settings: upstream(ports: []))
        #expect(empty.pick(anyClient) == nil)
    }
}
