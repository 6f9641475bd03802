/// Every way a Redis call can fail. Callers mostly distinguish "Redis said no" (`.server`) from
/// "Redis is not reachable right now" (everything else except `.invalidURL`).
public enum RedisError: Error, Sendable, Equatable {
    /// Not connected right now: fail fast, no waiting.
    case unavailable
    /// No reply within `commandTimeout`.
    case timeout
    /// An `-ERR ...` reply (the message without the leading `-`).
    case server(String)
    case protocolError(String)
    /// The connection was lost while the command was in flight.
    case connectionClosed
    case invalidURL(String)
    case shutdown
}
