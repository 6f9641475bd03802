import Foundation
import NIOCore

/// Where upstream state machines read the time. `now` (monotonic) drives ejection periods and the retry
/// budget; `wallNow` only turns deadlines into the ISO-8601 times of the `/upstreams` snapshot.
/// Tests inject a manual clock so that nothing sleeps.
public struct UpstreamClock: Sendable {
    public var now: @Sendable () -> NIODeadline
    public var wallNow: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> NIODeadline, wallNow: @escaping @Sendable () -> Date) {
        self.now = now
        self.wallNow = wallNow
    }

    public static let system = UpstreamClock(now: { .now() }, wallNow: { Date() })

    /// The wall-clock time of a monotonic deadline.
    func wallTime(of deadline: NIODeadline) -> Date {
        wallNow().addingTimeInterval((deadline - now()).seconds)
    }
}
