import GatewayUpstreams

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

    /// What passive health (`Replica.requestFinished`) is told.
    var requestOutcome: RequestOutcome {
        switch self {
        case .success: return .success
        case .connectFailure: return .connectFailure
        case .resetBeforeResponse: return .resetBeforeResponse
        case .badStatus(let code): return .badStatus(code)
        case .timeout: return .timeout
        case .aborted: return .cancelled
        }
    }
}
