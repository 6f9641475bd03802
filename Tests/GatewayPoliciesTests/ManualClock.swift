import GatewayPolicies
import NIOConcurrencyHelpers

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now: NIOLockedValueBox<Int64>

    init(startMicroseconds: Int64 = 1_700_000_000_000_000) {
        now = NIOLockedValueBox(startMicroseconds)
    }

    var clock: PolicyClock { PolicyClock { self.now.withLockedValue { $0 } } }

    func advance(microseconds: Int64) { now.withLockedValue { $0 += microseconds } }
    func advance(seconds: Double) { advance(microseconds: Int64(seconds * 1_000_000)) }
}
