import Yams

/// `pubsub:` — channel patterns clients may subscribe/publish to, plus per-client limits.
enum PubSubDecoder {
    static let keys = [
        "subscribe", "publish", "max_queued_bytes", "max_message_bytes", "history", "presence", "publish_rate",
    ]
    /// `sse:` routes: subscribe only, plus the keepalive period.
    static let sseKeys = ["subscribe", "history", "presence", "max_queued_bytes", "keepalive"]

    static func decode(_ node: Node, context: DecodeContext, draft: inout RouteDraft) -> PubSubSettings? {
        decode(node, transport: .websocket, context: context, draft: &draft)
    }

    /// `sse:` — the same settings, subscribe only (SPEC §9).
    static func decodeSSE(_ node: Node, context: DecodeContext, draft: inout RouteDraft) -> PubSubSettings? {
        decode(node, transport: .sse, context: context, draft: &draft)
    }

    private static func decode(
        _ node: Node, transport: PubSubTransport, context: DecodeContext, draft: inout RouteDraft
    ) -> PubSubSettings? {
        var pubsub = PubSubSettings()
        pubsub.transport = transport
        let what = transport == .sse ? "sse" : "pubsub"
        guard let map = MappingReader(node, what: what, allowed: transport == .sse ? sseKeys : keys, context: context)
        else { return nil }
        for key in ["subscribe", "publish", "presence"] {
            guard let value = map[key], let patterns = patterns(value, key: key, context: context, draft: &draft)
            else { continue }
            switch key {
            case "subscribe": pubsub.subscribe = patterns
            case "publish": pubsub.publish = patterns
            default: pubsub.presence = patterns
            }
        }
        if transport == .sse {
            if map["subscribe"] == nil { context.error("'sse' needs 'subscribe' channel patterns", at: node) }
            if let value = map["keepalive"], let period = context.duration(value, key: "keepalive") {
                pubsub.sseKeepalive = period
            }
        } else if map["subscribe"] == nil, map["publish"] == nil {
            context.error("'pubsub' needs 'subscribe' and/or 'publish' channel patterns", at: node)
        }
        if let value = map["history"] { pubsub.history = history(value, context: context, draft: &draft) }
        if let value = map["publish_rate"] { pubsub.publishRate = publishRate(value, context: context) }
        if let value = map["max_queued_bytes"], let size = context.size(value, key: "max_queued_bytes") {
            pubsub.maxQueuedBytes = size
        }
        if let value = map["max_message_bytes"], let size = context.size(value, key: "max_message_bytes") {
            pubsub.maxMessageBytes = size
        }
        return pubsub
    }

    /// A list of channel patterns (`*`, `{user}`).
    static func patterns(_ value: Node, key: String, context: DecodeContext, draft: inout RouteDraft) -> [String]? {
        guard let items = context.stringListNodes(value, key: key) else { return nil }
        var patterns: [String] = []
        for item in items {
            guard let pattern = context.nonEmptyString(item, key: key) else { continue }
            if pattern.contains("{") || pattern.contains("}") {
                let withoutUser = pattern.replacingAll("{user}", with: "")
                if withoutUser.contains("{") || withoutUser.contains("}") {
                    context.error("'\(pattern)': the only placeholder is {user}", at: item)
                    continue
                }
                if draft.userPatternLocation == nil { draft.userPatternLocation = context.location(of: item) }
            }
            patterns.append(pattern)
        }
        return patterns
    }

    static let historyKeys = ["channels", "size", "ttl"]

    /// `history: { channels: [...], size: 100, ttl: 10m }`.
    static func history(_ node: Node, context: DecodeContext, draft: inout RouteDraft) -> PubSubHistorySettings? {
        guard let map = MappingReader(node, what: "history", allowed: historyKeys, context: context) else { return nil }
        guard let channelsNode = map.required("channels"),
            let channels = patterns(channelsNode, key: "channels", context: context, draft: &draft)
        else { return nil }
        var history = PubSubHistorySettings(channels: channels)
        if let value = map["size"] {
            guard let size = context.int(value, key: "size", atLeast: 1, atMost: 1_000_000) else { return nil }
            history.size = size
        }
        if let value = map["ttl"] {
            guard let ttl = context.duration(value, key: "ttl") else { return nil }
            if ttl < .seconds(1) {
                context.error("'ttl' must be at least 1s (history is kept in whole milliseconds, renewed on publish)", at: value)
                return nil
            }
            history.ttl = ttl
        }
        return history
    }

    static let publishRateKeys = ["limit", "window", "burst", "key"]

    /// `publish_rate: { limit: 20, window: 1s, burst: 20, key: connection|session_user|client_ip }`.
    static func publishRate(_ node: Node, context: DecodeContext) -> PubSubPublishRate? {
        guard let map = MappingReader(node, what: "publish_rate", allowed: publishRateKeys, context: context)
        else { return nil }
        let limit = map.required("limit").flatMap { context.int($0, key: "limit", atLeast: 1) }
        let window = map.required("window").flatMap { context.duration($0, key: "window") }
        var burst: Int? = nil
        if let value = map["burst"] {
            guard let parsed = context.int(value, key: "burst", atLeast: 1) else { return nil }
            burst = parsed
        }
        var key = PubSubPublishRate.Key.connection
        if let value = map["key"] {
            guard let parsed = context.enumeration(value, key: "key", as: PubSubPublishRate.Key.self) else { return nil }
            key = parsed
        }
        guard let limit, let window else { return nil }
        return PubSubPublishRate(limit: limit, window: window, burst: burst, key: key)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
