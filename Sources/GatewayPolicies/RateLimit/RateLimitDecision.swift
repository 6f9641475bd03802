import GatewayConfig

/// One limit to check for one request.
public struct RateLimitRequest: Sendable, Equatable {
    public var limit: RateLimitSettings
    /// The full store key including route, limit name and key value; see ``RateLimitKeys/storeKey(prefix:route:limit:value:)``.
    public var key: String

    public init(limit: RateLimitSettings, key: String) {
        self.limit = limit
        self.key = key
    }
}

/// What one limit says about one request.
public struct RateLimitResult: Sendable, Equatable {
    public var limit: RateLimitSettings
    /// Whether this limit alone would admit the request.
    public var allowed: Bool
    public var remaining: Int
    /// Seconds until this limit's budget is fully restored.
    public var resetSeconds: Int
    /// Seconds until a retry fits this limit; nil when it admits.
    public var retryAfterSeconds: Int?

    public init(limit: RateLimitSettings, allowed: Bool, remaining: Int, resetSeconds: Int, retryAfterSeconds: Int?) {
        self.limit = limit
        self.allowed = allowed
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }

    init(limit: RateLimitSettings, outcome: GCRAOutcome) {
        self.init(
            limit: limit, allowed: outcome.allowed, remaining: outcome.remaining,
            resetSeconds: outcome.resetSeconds, retryAfterSeconds: outcome.retryAfterSeconds)
    }
}

/// The verdict for one request over all limits of its route.
public struct RateLimitDecision: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Every limit admitted the request and it was charged to all of them.
        case allowed
        /// At least one limit refused; nothing was charged. Answer 429 with `Retry-After`.
        case denied
        /// The shared store is unreachable and `store.on_error: deny`. Answer 503 with `Retry-After`.
        case storeUnavailable
    }

    public var outcome: Outcome
    /// Per limit, in the order requested. Empty when the store was down and the request was admitted
    /// (`on_error: allow`) or refused (`on_error: deny`): no numbers are known then.
    public var results: [RateLimitResult]
    /// The limit to report in the `RateLimit` field: the denying one if denied, else the smallest remaining ratio.
    public var mostRestrictive: RateLimitResult?
    /// True when the verdict did not come from the shared store (`allow` or `local` fallback while it is down).
    public var degraded: Bool

    public init(outcome: Outcome, results: [RateLimitResult], mostRestrictive: RateLimitResult?, degraded: Bool = false) {
        self.outcome = outcome
        self.results = results
        self.mostRestrictive = mostRestrictive
        self.degraded = degraded
    }

    public var isAllowed: Bool { outcome == .allowed }

    /// Seconds for `Retry-After` on 429/503.
    public var retryAfterSeconds: Int? {
        switch outcome {
        case .allowed: return nil
        case .denied: return mostRestrictive?.retryAfterSeconds ?? 1
        case .storeUnavailable: return 1
        }
    }

    /// Builds a decision from per-limit results (in request order).
    public init(results: [RateLimitResult], degraded: Bool = false) {
        let allowed = results.allSatisfy(\.allowed)
        var chosen: RateLimitResult? = nil
        if allowed {
            var bestRatio = Double.infinity
            for result in results {
                let capacity = Double(max(result.limit.burst, 1))
                let ratio = Double(result.remaining) / capacity
                if ratio < bestRatio {
                    bestRatio = ratio
                    chosen = result
                }
            }
        } else {
            // The denying limit that frees up last is the one the client must wait for.
            for result in results where !result.allowed {
                if (result.retryAfterSeconds ?? 0) > (chosen?.retryAfterSeconds ?? -1) { chosen = result }
            }
        }
        self.init(outcome: allowed ? .allowed : .denied, results: results, mostRestrictive: chosen, degraded: degraded)
    }

    /// `on_error: allow` while the store is down: admitted, no numbers.
    public static let admittedWithoutStore = RateLimitDecision(outcome: .allowed, results: [], mostRestrictive: nil, degraded: true)
    /// `on_error: deny` while the store is down.
    public static let storeDown = RateLimitDecision(outcome: .storeUnavailable, results: [], mostRestrictive: nil, degraded: true)
}
