import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore

/// GCRA in process memory: the limiter of single-instance deployments and the `on_error: local` fallback.
///
/// State is one TAT per key under a lock; the check and charge of all limits happen under one lock hold,
/// so it is atomic like the Redis script. Keys whose TAT has passed carry no information (a missing key
/// means "full budget") and are swept every `sweepInterval` checks.
public final class LocalRateLimiter: RateLimiter {
    private struct State {
        /// Theoretical arrival time per key, µs on `clock`.
        var tat: [String: Int64] = [:]
        var checksSinceSweep = 0
    }

    private let state = NIOLockedValueBox(State())
    private let clock: PolicyClock
    private let sweepInterval: Int

    public init(clock: PolicyClock = .monotonic, sweepInterval: Int = 4096) {
        self.clock = clock
        self.sweepInterval = max(sweepInterval, 1)
    }

    public func check(_ requests: [RateLimitRequest], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        eventLoop.makeSucceededFuture(checkNow(requests))
    }

    /// The synchronous core of ``check(_:on:)``.
    public func checkNow(_ requests: [RateLimitRequest]) -> RateLimitDecision {
        let parameters = requests.map { GCRAParameters($0.limit) }
        let now = clock.nowMicroseconds()
        let occupancies: [Int64] = state.withLockedValue { state in
            state.checksSinceSweep += 1
            if state.checksSinceSweep >= sweepInterval {
                state.checksSinceSweep = 0
                state.tat = state.tat.filter { $0.value > now }
            }
            var occupancies: [Int64] = []
            occupancies.reserveCapacity(requests.count)
            var allAdmit = true
            for (index, request) in requests.enumerated() {
                let occupancy = max((state.tat[request.key] ?? now) - now, 0)
                occupancies.append(occupancy)
                if !parameters[index].admits(occupancy: occupancy) { allAdmit = false }
            }
            if allAdmit {
                for (index, request) in requests.enumerated() {
                    state.tat[request.key] = now + occupancies[index] + parameters[index].emissionInterval
                }
            }
            return occupancies
        }
        let consumed = zip(parameters, occupancies).allSatisfy { $0.admits(occupancy: $1) }
        let results = requests.indices.map { index in
            RateLimitResult(
                limit: requests[index].limit,
                outcome: parameters[index].result(occupancy: occupancies[index], consumed: consumed))
        }
        return RateLimitDecision(results: results)
    }

    /// Number of keys currently held (for tests and metrics).
    public var keyCount: Int { state.withLockedValue { $0.tat.count } }
}
