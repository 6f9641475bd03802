import GatewayConfig

/// The Generic Cell Rate Algorithm, in integer microseconds.
///
/// State per key is one number, the theoretical arrival time (TAT). Stores do not hand the TAT around:
/// they report the *occupancy* `max(TAT, now) - now`, i.e. how far the budget is currently used up, and
/// this pure type turns it into a verdict. Both the Lua script and ``LocalRateLimiter`` share this math.
///
/// - emission interval `T = window / limit`
/// - tolerance `τ = burst · T`
/// - a request is admitted when `occupancy + T ≤ τ`; admitting it sets `occupancy' = occupancy + T`.
///
/// With `burst = limit = 100`, a fresh key admits exactly 100 requests at once, then one per `T`.
public struct GCRAParameters: Sendable, Equatable {
    /// T, µs (at least 1).
    public var emissionInterval: Int64
    /// τ, µs.
    public var tolerance: Int64

    public init(_ limit: RateLimitSettings) {
        let window = max(limit.window.policyMicroseconds, 1)
        let count = Int64(max(limit.limit, 1))
        self.emissionInterval = max(window / count, 1)
        self.tolerance = self.emissionInterval * Int64(max(limit.burst, 1))
    }

    public init(emissionInterval: Int64, tolerance: Int64) {
        self.emissionInterval = emissionInterval
        self.tolerance = tolerance
    }

    /// Whether a request arriving at the given occupancy fits.
    public func admits(occupancy: Int64) -> Bool {
        occupancy + emissionInterval <= tolerance
    }

    /// The report for one limit.
    ///
    /// - Parameters:
    ///   - occupancy: `max(TAT, now) - now` *before* this request, µs.
    ///   - consumed: whether this request was charged (all limits of the request admitted it).
    public func result(occupancy before: Int64, consumed: Bool) -> GCRAOutcome {
        let before = max(before, 0)
        let allowed = admits(occupancy: before)
        let after = consumed ? before + emissionInterval : before
        let remaining = max((tolerance - after) / emissionInterval, 0)
        let reset = Self.ceilSeconds(after)
        var retryAfter: Int? = nil
        if !allowed {
            // The next request fits once occupancy has drained to τ - T.
            retryAfter = max(Int(Self.ceilSeconds(before + emissionInterval - tolerance)), 1)
        }
        return GCRAOutcome(allowed: allowed, remaining: Int(remaining), resetSeconds: Int(reset), retryAfterSeconds: retryAfter)
    }

    static func ceilSeconds(_ micros: Int64) -> Int64 {
        micros <= 0 ? 0 : (micros + 999_999) / 1_000_000
    }
}

/// The verdict of ``GCRAParameters/result(occupancy:consumed:)``.
public struct GCRAOutcome: Sendable, Equatable {
    public var allowed: Bool
    /// Requests still admissible right now (floor).
    public var remaining: Int
    /// Seconds until the budget is fully restored (ceil).
    public var resetSeconds: Int
    /// Seconds until a retry can succeed (ceil, ≥ 1); nil when allowed.
    public var retryAfterSeconds: Int?
}

