import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore

/// GCRA for client publishes (SPEC §9 `publish_rate`), the same arithmetic as route limits: emission interval
/// `T = window / limit`, tolerance `τ = burst · T`; a publish fits when `max(TAT, now) - now + T ≤ τ`.
/// Pure: the caller supplies the clock (µs).
struct PublishBudget: Sendable, Equatable {
    let emissionInterval: Int64
    let tolerance: Int64
    /// Theoretical arrival time, µs.
    private(set) var tat: Int64 = 0

    init(_ rate: PubSubPublishRate) {
        let (seconds, attoseconds) = rate.window.components
        let window = max(seconds * 1_000_000 + attoseconds / 1_000_000_000_000, 1)
        emissionInterval = max(window / Int64(max(rate.limit, 1)), 1)
        tolerance = emissionInterval * Int64(max(rate.burst, 1))
    }

    /// Charges one publish at `now` when it fits; false (nothing charged) when over the budget.
    mutating func admit(now: Int64) -> Bool {
        let occupancy = max(tat, now) - now
        guard occupancy + emissionInterval <= tolerance else { return false }
        tat = max(tat, now) + emissionInterval
        return true
    }

    /// Seconds until the next publish fits (≥ 1), for the error message.
    func retryAfterSeconds(now: Int64) -> Int {
        let wait = max(tat, now) - now + emissionInterval - tolerance
        return max(Int((wait + 999_999) / 1_000_000), 1)
    }
}

/// Budgets shared by the connections of one instance (`key: session_user` / `client_ip`), per route and key value.
final class SharedPublishBudgets: Sendable {
    private let budgets = NIOLockedValueBox([String: PublishBudget]())

    static let shared = SharedPublishBudgets()

    func admit(_ key: String, rate: PubSubPublishRate, now: Int64) -> Bool {
        budgets.withLockedValue { budgets in
            if budgets.count > 100_000 {  // forget idle keys (their budget is full again anyway)
                budgets = budgets.filter { $0.value.tat > now }
            }
            var budget = budgets[key] ?? PublishBudget(rate)
            let admitted = budget.admit(now: now)
            budgets[key] = budget
            return admitted
        }
    }
}

extension NIODeadline {
    var microseconds: Int64 { Int64(uptimeNanoseconds / 1000) }
}
