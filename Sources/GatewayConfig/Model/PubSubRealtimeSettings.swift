/// `pubsub.history` (SPEC §9): which channels keep their last `size` messages for `ttl`.
public struct PubSubHistorySettings: Sendable, Equatable {
    /// Channel patterns, like `subscribe` (`*`, `{user}`).
    public var channels: [String]
    public var size: Int
    public var ttl: Duration

    public init(channels: [String], size: Int = 100, ttl: Duration = .seconds(600)) {
        self.channels = channels
        self.size = size
        self.ttl = ttl
    }
}

/// `pubsub.publish_rate` (SPEC §9): GCRA budget for client publishes, like a route limit.
public struct PubSubPublishRate: Sendable, Equatable {
    public enum Key: String, Sendable, Equatable, CaseIterable {
        /// One budget per WebSocket connection (the default).
        case connection
        /// One budget per session user on this instance (anonymous connections: per connection).
        case sessionUser = "session_user"
        /// One budget per client address on this instance.
        case clientIP = "client_ip"
    }

    public var limit: Int
    public var window: Duration
    public var burst: Int
    public var key: Key

    public init(limit: Int, window: Duration, burst: Int? = nil, key: Key = .connection) {
        self.limit = limit
        self.window = window
        self.burst = burst ?? limit
        self.key = key
    }
}

public enum PubSubTransport: String, Sendable, Equatable {
    case websocket
    /// Server-Sent Events: `GET` with `Accept: text/event-stream`, channels from `?channel=a,b`.
    case sse
}
