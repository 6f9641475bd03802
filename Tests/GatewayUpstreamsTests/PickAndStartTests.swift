import GatewayConfig
import Testing

@testable import GatewayUpstreams

/// The proxy's per-attempt path: one pick that also counts the attempt (issue 11, item 4).
@Suite struct PickAndStartTests {
    @Test func pickAndStartCountsTheAttemptOnTheChosenReplica() throws {
        let group = UpstreamGroup(settings: upstream(ports: [9001, 9002]))
        let pick = try #require(group.pickAndStart(anyClient, excluding: EmptyCollection<Int>()))
        #expect(pick.replica.inFlight == 1)
        let other = group.replicas.first { $0 !== pick.replica }!
        #expect(other.inFlight == 0)
        pick.replica.requestFinished(.success)
        #expect(pick.replica.inFlight == 0)
    }

    @Test func plainPickCountsNothing() throws {
        let group = UpstreamGroup(settings: upstream(ports: [9001]))
        let pick = try #require(group.pick(anyClient))
        #expect(pick.replica.inFlight == 0)
    }

    @Test func leastConnSeesAttemptsStartedByPickAndStart() {
        let group = UpstreamGroup(settings: upstream(balance: .leastConn, ports: [9001, 9002, 9003]))
        let ports = (0..<3).compactMap { _ in group.pickAndStart(anyClient, excluding: EmptyCollection<Int>())?.replica.port }
        #expect(Set(ports) == [9001, 9002, 9003])
    }

    @Test func excludedReplicasAreNotPicked() throws {
        let group = UpstreamGroup(settings: upstream(ports: [9001, 9002]))
        let first = try #require(group.pickAndStart(anyClient, excluding: EmptyCollection<Int>()))
        for _ in 0..<10 {
            let retry = try #require(group.pickAndStart(anyClient, excluding: [first.replica.index]))
            #expect(retry.replica !== first.replica)
            retry.replica.requestFinished(.success)
        }
        #expect(group.pickAndStart(anyClient, excluding: group.replicas.map(\.index)) == nil)
    }

    @Test func cookieBalancePicksTheCookiesReplicaAndSaysWhichCookieToSet() throws {
        let group = UpstreamGroup(settings: upstream(balance: .cookie, ports: [9001, 9002]))
        let fresh = try #require(group.pickAndStart(anyClient, excluding: EmptyCollection<Int>()))
        let cookie = try #require(fresh.setAffinityCookie)
        let again = try #require(
            group.pickAndStart(
                BalancerContext(clientIP: "10.0.0.1", affinityCookie: cookie), excluding: EmptyCollection<Int>()))
        #expect(again.replica === fresh.replica)
        #expect(again.setAffinityCookie == nil)
        #expect(fresh.replica.inFlight == 2)
    }

    @Test func poolKeyIsPrecomputedAndSeparatesTLS() {
        var settings = upstream(ports: [9001])
        settings.replicas.append(ReplicaSettings(url: "https://127.0.0.1:9001", host: "127.0.0.1", port: 9001, tls: true))
        let group = UpstreamGroup(settings: settings)
        #expect(group.replicas.map(\.poolKey) == ["127.0.0.1:9001", "tls:127.0.0.1:9001"])
        #expect(group.replicas.map(\.tls) == [false, true])
    }
}
