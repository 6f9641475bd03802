import GatewayConfig

/// The timeout rules shared by both session stores (the Lua scripts mirror them), in milliseconds.
///
/// - A session expires `idle` after its last refresh or `absolute` after creation, whichever is first.
/// - A lookup refreshes only when more than `idle / 10` has passed since the last refresh, so a busy
///   session costs one write per tenth of the idle timeout rather than one per request. The idle
///   timeout is therefore honoured to within 10 % (a session idle for between 0.9 and 1.0 × `idle` may
///   already be gone).
public struct SessionExpiry: Sendable, Equatable {
    public var idle: Int64
    public var absolute: Int64

    public init(idle: Int64, absolute: Int64) {
        self.idle = max(idle, 1)
        self.absolute = max(absolute, 1)
    }

    public init(_ settings: SessionSettings) {
        self.init(idle: settings.idleTimeout.policyMilliseconds, absolute: settings.absoluteTimeout.policyMilliseconds)
    }

    public var refreshThreshold: Int64 { idle / 10 }

    /// When the session stops being valid.
    public func expiresAt(createdAt: Int64, lastRefresh: Int64) -> Int64 {
        min(lastRefresh + idle, createdAt + absolute)
    }

    public func isExpired(now: Int64, createdAt: Int64, lastRefresh: Int64) -> Bool {
        now >= expiresAt(createdAt: createdAt, lastRefresh: lastRefresh)
    }

    public func shouldRefresh(now: Int64, lastRefresh: Int64) -> Bool {
        now - lastRefresh > refreshThreshold
    }

    /// Time to live for the store entry after a refresh at `now` (never beyond the absolute deadline).
    public func ttl(now: Int64, createdAt: Int64) -> Int64 {
        max(min(idle, createdAt + absolute - now), 1)
    }
}
