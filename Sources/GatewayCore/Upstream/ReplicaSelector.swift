/// A replica chosen for one attempt of one request.
struct ReplicaChoice {
    let host: String
    let port: Int
    /// The replica's URL as configured; its identity across reloads and in metrics.
    let url: String
    /// `Set-Cookie` value to send for `balance: cookie` when affinity was (re)assigned.
    let setAffinityCookie: String?
    /// The balancer's own replica object, handed back in `attemptFinished`.
    let token: AnyObject?
    /// Picked in panic mode (`panic_threshold`), counted in `gateway_upstream_panic_total`.
    var panic = false
}

enum PickResult {
    case replica(ReplicaChoice)
    case unknownUpstream
    /// Every replica is unhealthy, ejected or already tried.
    case noneAvailable
}

/// How one attempt against a replica ended, for passive health and metrics.
enum AttemptOutcome: Equatable {
    case success
    case connectFailure
    case resetBeforeResponse
    case badStatus(Int)
    case timeout
    /// The client went away or the exchange was cut after the response started; not the replica's fault.
    case aborted

    /// The `outcome` label of `gateway_upstream_requests_total`.
    var metricLabel: String {
        switch self {
        case .success: return "success"
        case .connectFailure: return "connect_failure"
        case .resetBeforeResponse: return "reset"
        case .badStatus(let code): return "status_\(code)"
        case .timeout: return "timeout"
        case .aborted: return "cancelled"
        }
    }
}

/// The proxy's view of load balancing and replica health (implemented over GatewayUpstreams).
protocol ReplicaSelector: Sendable {
    func pick(upstream: String, clientIP: String, affinityCookie: String?, excluding: [String]) -> PickResult
    func attemptStarted(_ choice: ReplicaChoice)
    func attemptFinished(_ choice: ReplicaChoice, outcome: AttemptOutcome)
    /// Counts a request towards the upstream's retry budget.
    func recordRequest(upstream: String)
    /// Whether one more retry fits the upstream's retry budget (consumes it when true).
    func allowRetry(upstream: String) -> Bool
    /// The affinity cookie name for `balance: cookie` upstreams (nil for other strategies).
    func affinityCookieName(upstream: String) -> String?
}
