import NIOCore

/// Exponential backoff with jitter for reconnects: the n-th consecutive failure waits a random delay in
/// `[d/2, d]` where `d = min(initial * 2^n, maximum)`. The random half spreads reconnects of many gateway
/// instances (and loops) so a restarted Redis does not see a stampede. Pure value type for unit tests.
struct ReconnectBackoff: Sendable {
    let initial: TimeAmount
    let maximum: TimeAmount
    private(set) var failures = 0

    init(initial: TimeAmount, maximum: TimeAmount) {
        self.initial = max(initial, .nanoseconds(1))
        self.maximum = max(maximum, self.initial)
    }

    /// The delay before the next attempt; `unit` in `0...1` picks the point in the jitter window.
    mutating func nextDelay(unit: Double = Double.random(in: 0...1)) -> TimeAmount {
        let shift = min(failures, 32)
        failures += 1
        let ceiling = initial.nanoseconds.multipliedReportingOverflow(by: Int64(1) << shift)
        let delay = ceiling.overflow ? maximum.nanoseconds : min(ceiling.partialValue, maximum.nanoseconds)
        let jittered = Double(delay) / 2 + Double(delay) / 2 * min(max(unit, 0), 1)
        return .nanoseconds(Int64(jittered))
    }

    mutating func reset() { failures = 0 }
}
