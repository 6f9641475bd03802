import Foundation

/// What `/upstreams` shows for a replica. Only `healthy` replicas are in rotation.
public enum ReplicaState: String, Sendable, Equatable, CaseIterable {
    case healthy
    /// Failed `unhealthy_after` active checks in a row (and has not passed `healthy_after` since).
    case unhealthy
    /// Ejected by passive health (consecutive proxy failures), or its ejection ended and it waits for a passed
    /// active check.
    case ejected
    /// Removed by a reload; finishes its in-flight requests, gets no new ones.
    case draining
}

/// How one proxied attempt to a replica ended, as the proxy reports it with `Replica.requestFinished(_:)`.
public enum RequestOutcome: Sendable, Equatable {
    /// The replica answered (any status except 502/503/504).
    case success
    case connectFailure
    /// The connection closed or reset before a response head arrived.
    case resetBeforeResponse
    /// The replica answered with this status; 502, 503 and 504 count as passive failures, others as success.
    case badStatus(Int)
    /// No response head within the route's response timeout. Counts as a failure (as nginx's `max_fails`).
    case timeout
    /// The client went away or the attempt was abandoned: neither success nor failure.
    case cancelled

    /// Whether this outcome counts toward passive ejection.
    public var isFailure: Bool {
        switch self {
        case .connectFailure, .resetBeforeResponse, .timeout: return true
        case .badStatus(let status): return (502...504).contains(status)
        case .success, .cancelled: return false
        }
    }

    /// For log reasons: `connect failure`, `status 503`...
    public var text: String {
        switch self {
        case .success: return "success"
        case .connectFailure: return "connect failure"
        case .resetBeforeResponse: return "connection lost before the response"
        case .badStatus(let status): return "status \(status)"
        case .timeout: return "response timeout"
        case .cancelled: return "cancelled"
        }
    }
}

/// A replica changed state (for logs): delivered after the lock is released.
public struct ReplicaStateChange: Sendable, Equatable, CustomStringConvertible {
    public var upstream: String
    public var url: String
    public var from: ReplicaState
    public var to: ReplicaState
    /// Why, in words: `2 failed checks of GET /health: connection refused`, `3 failed requests in a row (last:
    /// response timeout); out for 10s`, `check passed (status 200)`, `removed by a reload`.
    public var reason: String? = nil

    public init(upstream: String, url: String, from: ReplicaState, to: ReplicaState, reason: String? = nil) {
        self.upstream = upstream
        self.url = url
        self.from = from
        self.to = to
        self.reason = reason
    }

    public var description: String {
        "upstream \(upstream) replica \(url): \(from.rawValue) -> \(to.rawValue)" + (reason.map { ": \($0)" } ?? "")
    }
}

/// The result of the last active check of a replica.
public struct HealthCheckRecord: Sendable, Equatable {
    public var at: Date
    public var ok: Bool
    /// nil when no status line arrived (connect error, timeout, garbage).
    public var status: Int?
    /// Why a check failed, for operators (`connection refused (127.0.0.1:9003)`, `status 503`, `no answer within 1s`).
    public var error: String?

    public init(at: Date, ok: Bool, status: Int?, error: String? = nil) {
        self.at = at
        self.ok = ok
        self.status = status
        self.error = error
    }
}
