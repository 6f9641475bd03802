import GatewayConfig
import NIOCore
import Testing

@testable import GatewayUpstreams

@Suite struct ActiveHealthTests {
    func settings(unhealthyAfter: Int = 2, healthyAfter: Int = 3) -> HealthCheckSettings {
        var health = HealthCheckSettings()
        health.unhealthyAfter = unhealthyAfter
        health.healthyAfter = healthyAfter
        return health
    }

    func check(_ replica: Replica, ok: Bool, status: Int? = nil) {
        replica.recordHealthCheck(HealthCheckRecord(at: ManualClock.wallBase, ok: ok, status: status ?? (ok ? 200 : 503)))
    }

    @Test func thresholds() {
        let group = UpstreamGroup(settings: upstream(ports: [1, 2], health: settings()), clock: ManualClock().clock)
        let one = group.replica(port: 1)
        #expect(one.state == .healthy, "replicas start healthy")
        check(one, ok: false)
        #expect(one.state == .healthy)
        check(one, ok: true)
        check(one, ok: false)
        #expect(one.state == .healthy, "a pass resets the failure count")
        check(one, ok: false)
        #expect(one.state == .unhealthy)
        #expect(group.ports(3) == [2, 2, 2])
        check(one, ok: true)
        check(one, ok: true)
        check(one, ok: false)
        check(one, ok: true)
        check(one, ok: true)
        #expect(one.state == .unhealthy)
        check(one, ok: true)
        #expect(one.state == .healthy)
    }

    @Test func checksAreIgnoredWithoutAHealthBlock() {
        let group = UpstreamGroup(settings: upstream(ports: [1]), clock: ManualClock().clock)
        for _ in 0..<5 { check(group.replica(port: 1), ok: false) }
        #expect(group.replica(port: 1).state == .healthy)
    }

    @Test func statusLineParsing() {
        #expect(StatusLineHandler.parse(statusLine: "HTTP/1.1 200 OK\r") == .init(ok: true, status: 200))
        #expect(StatusLineHandler.parse(statusLine: "HTTP/1.0 302 Found") == .init(ok: true, status: 302))
        #expect(StatusLineHandler.parse(statusLine: "HTTP/1.1 404 Not Found") == .init(ok: false, status: 404, error: "status 404"))
        #expect(StatusLineHandler.parse(statusLine: "HTTP/1.1 503") == .init(ok: false, status: 503, error: "status 503"))
        #expect(StatusLineHandler.parse(statusLine: "SSH-2.0-OpenSSH") == .init(ok: false, status: nil, error: "not an HTTP status line"))
        #expect(StatusLineHandler.parse(statusLine: "HTTP/1.1 2000 X") == .init(ok: false, status: nil, error: "not an HTTP status line"))
    }
}
