#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of "now" in microseconds, injectable so the in-memory stores can be tested with a manual clock.
///
/// The Redis-backed stores never use it: they read Redis `TIME` inside their scripts so that all gateway
/// instances share one clock.
public struct PolicyClock: Sendable {
    public let nowMicroseconds: @Sendable () -> Int64

    public init(nowMicroseconds: @escaping @Sendable () -> Int64) {
        self.nowMicroseconds = nowMicroseconds
    }

    /// Wall-clock time (µs since the Unix epoch), for session timestamps.
    public static let wall = PolicyClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }

    /// Monotonic time (µs since an arbitrary point), for in-process rate limits immune to clock steps.
    public static let monotonic = PolicyClock {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}

extension Duration {
    /// Whole microseconds (rounded down), saturating at `Int64.max`.
    var policyMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        return scaled + attoseconds / 1_000_000_000_000
    }

    /// Whole milliseconds (rounded down).
    var policyMilliseconds: Int64 { policyMicroseconds / 1_000 }
}
