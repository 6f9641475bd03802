/// A live session as the proxy sees it.
public struct Session: Sendable, Equatable {
    public var id: String
    /// The JSON object from `X-Gateway-Session`, compact, as stored.
    public var data: String
    /// The object's `user` field, if any.
    public var user: String?
    /// Unix time, milliseconds.
    public var createdAt: Int64
    /// Unix time, milliseconds, of the last idle-timeout refresh (refreshes are throttled, see ``SessionExpiry``).
    public var lastSeen: Int64

    public init(id: String, data: String, user: String?, createdAt: Int64, lastSeen: Int64) {
        self.id = id
        self.data = data
        self.user = user
        self.createdAt = createdAt
        self.lastSeen = lastSeen
    }
}

/// The store could not answer (Redis down, timeout, protocol error). The proxy answers 503 + `Retry-After`.
public struct SessionStoreUnavailable: Error, CustomStringConvertible {
    public var underlying: any Error

    public init(underlying: any Error) {
        self.underlying = underlying
    }

    public var description: String { "session store unavailable: \(underlying)" }
}
