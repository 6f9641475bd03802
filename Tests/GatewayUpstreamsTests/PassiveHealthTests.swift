import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import GatewayUpstreams

@Suite struct PassiveHealthTests {
    func passive(failures: Int = 3, ejectFor: Duration = .seconds(10), max: Duration = .seconds(35)) -> PassiveHealthSettings {
        var settings = PassiveHealthSettings()
        settings.failures = failures
        settings.ejectFor = ejectFor
        settings.maxEjectFor = max
        return settings
    }

    func fail(_ replica: Replica, _ times: Int, _ outcome: RequestOutcome = .connectFailure) {
        for _ in 0..<times {
            replica.requestStarted()
            replica.requestFinished(outcome)
        }
    }

    @Test func consecutiveFailuresEjectAndSuccessResets() {
        let clock = ManualClock()
        let group = UpstreamGroup(settings: upstream(ports: [1, 2], passive: passive()), clock: clock.clock)
        let one = group.replica(port: 1)
        fail(one, 2)
        one.requestStarted()
        one.requestFinished(.success)
        fail(one, 2, .badStatus(503))
        #expect(one.state == .healthy)
        fail(one, 1, .resetBeforeResponse)
        #expect(one.state == .ejected)
        #expect(group.ports(5) == [2, 2, 2, 2, 2])
    }

    @Test func nonGatewayStatusesAreNotFailures() {
        let clock = ManualClock()
        let group = UpstreamGroup(settings: upstream(ports: [1], passive: passive(failures: 1)), clock: clock.clock)
        let one = group.replica(port: 1)
        fail(one, 5, .badStatus(500))
        fail(one, 5, .cancelled)
        #expect(one.state == .healthy)
        fail(one, 1, .timeout)
        #expect(one.state == .ejected)
    }

    @Test func ejectionDoublesUpToTheCapAndRecovers() throws {
        let clock = ManualClock()
        let changes = NIOLockedValueBox<[ReplicaStateChange]>([])
        let group = UpstreamGroup(
            settings: upstream(ports: [1, 2], passive: passive()), clock: clock.clock,
            onStateChange: { change in changes.withLockedValue { $0.append(change) } })
        let one = group.replica(port: 1)
        var expected: [Int64] = [10, 20, 35, 35]
        for seconds in expected {
            fail(one, 3)
            #expect(one.state == .ejected)
            clock.advance(.seconds(seconds) - .milliseconds(1))
            #expect(one.state == .ejected, "still ejected just before \(seconds)s")
            #expect(group.ports(3).allSatisfy { $0 == 2 })
            clock.advance(.milliseconds(1))
            #expect(one.state == .healthy)
            #expect(Set(group.ports(4)) == [1, 2])
        }
        // A full period of good behaviour resets the doubling.
        clock.advance(.seconds(40))
        one.requestStarted()
        one.requestFinished(.success)
        fail(one, 3)
        clock.advance(.seconds(10))
        #expect(one.state == .healthy)
        expected = []
        let seen = changes.withLockedValue { $0 }
        let first = try #require(seen.first)
        #expect(first.upstream == "app" && first.url == "http://127.0.0.1:1" && first.from == .healthy && first.to == .ejected)
        // Issue 18 #5: a transition says why.
        #expect(first.reason?.contains("failed requests in a row (last: connect failure); out for ") == true)
        #expect(first.description.contains("healthy -> ejected: 3 failed requests in a row"))
        #expect(seen.contains { $0.from == .ejected && $0.to == .healthy })
    }

    @Test func failuresWhileEjectedAreIgnored() {
        let clock = ManualClock()
        let group = UpstreamGroup(settings: upstream(ports: [1], passive: passive()), clock: clock.clock)
        let one = group.replica(port: 1)
        for _ in 0..<5 { one.requestStarted() }
        for _ in 0..<5 { one.requestFinished(.connectFailure) }
        #expect(one.state == .ejected)
        #expect(one.inFlight == 0)
        clock.advance(.seconds(10))
        #expect(one.state == .healthy)
    }

    @Test func passiveOffNeverEjects() {
        let clock = ManualClock()
        let group = UpstreamGroup(settings: upstream(ports: [1], passive: nil), clock: clock.clock)
        fail(group.replica(port: 1), 50)
        #expect(group.replica(port: 1).state == .healthy)
    }

    @Test func withActiveChecksAnEjectedReplicaWaitsForAPassedCheck() {
        let clock = ManualClock()
        let group = UpstreamGroup(
            settings: upstream(ports: [1, 2], health: HealthCheckSettings(), passive: passive()), clock: clock.clock)
        let one = group.replica(port: 1)
        fail(one, 3)
        clock.advance(.seconds(11))
        #expect(one.state == .ejected)
        #expect(group.ports(3).allSatisfy { $0 == 2 })
        one.recordHealthCheck(HealthCheckRecord(at: clock.clock.wallNow(), ok: false, status: 503))
        #expect(one.state == .ejected)
        one.recordHealthCheck(HealthCheckRecord(at: clock.clock.wallNow(), ok: true, status: 200))
        #expect(one.state == .healthy)
    }

    @Test func aPassedCheckDuringTheEjectionDoesNotEndIt() {
        let clock = ManualClock()
        let group = UpstreamGroup(
            settings: upstream(ports: [1], health: HealthCheckSettings(), passive: passive()), clock: clock.clock)
        let one = group.replica(port: 1)
        fail(one, 3)
        clock.advance(.seconds(5))
        one.recordHealthCheck(HealthCheckRecord(at: clock.clock.wallNow(), ok: true, status: 200))
        #expect(one.state == .ejected)
    }
}
