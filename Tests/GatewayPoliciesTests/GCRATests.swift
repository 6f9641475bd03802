import GatewayConfig
import Testing

@testable import GatewayPolicies

@Suite struct GCRATests {
    let limit = RateLimitSettings(name: "per-ip", key: .clientIP, limit: 100, window: .seconds(60))

    @Test func parametersFromSettings() {
        let parameters = GCRAParameters(limit)
        #expect(parameters.emissionInterval == 600_000)
        #expect(parameters.tolerance == 60_000_000)
        let burst = GCRAParameters(RateLimitSettings(name: "b", key: .clientIP, limit: 10, window: .seconds(10), burst: 3))
        #expect(burst.emissionInterval == 1_000_000)
        #expect(burst.tolerance == 3_000_000)
    }

    @Test func firstRequestReportsFullBudgetMinusOne() {
        let outcome = GCRAParameters(limit).result(occupancy: 0, consumed: true)
        #expect(outcome == GCRAOutcome(allowed: true, remaining: 99, resetSeconds: 1, retryAfterSeconds: nil))
    }

    @Test func lastAdmittedAndFirstDenied() {
        let parameters = GCRAParameters(limit)
        let last = parameters.result(occupancy: 99 * 600_000, consumed: true)
        #expect(last.allowed && last.remaining == 0 && last.resetSeconds == 60)
        let denied = parameters.result(occupancy: 100 * 600_000, consumed: false)
        #expect(!denied.allowed)
        #expect(denied.remaining == 0)
        #expect(denied.resetSeconds == 60)
        #expect(denied.retryAfterSeconds == 1)  // 0.6 s rounded up
    }

    @Test func retryAfterIsAtLeastOneAndRoundsUp() {
        let slow = GCRAParameters(RateLimitSettings(name: "login", key: .clientIP, limit: 5, window: .seconds(60)))
        // T = 12 s; full budget used: next fits after 12 s.
        let denied = slow.result(occupancy: 60_000_000, consumed: false)
        #expect(denied.retryAfterSeconds == 12)
        let almost = slow.result(occupancy: 48_000_001, consumed: false)
        #expect(almost.retryAfterSeconds == 1)
    }
}
