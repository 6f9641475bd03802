import Yams

/// `pubsub:` — channel patterns clients may subscribe/publish to, plus per-client limits.
enum PubSubDecoder {
    static let keys = ["subscribe", "publish", "max_queued_bytes", "max_message_bytes"]

    static func decode(_ node: Node, context: DecodeContext, draft: inout RouteDraft) -> PubSubSettings? {
        var pubsub = PubSubSettings()
        guard let map = MappingReader(node, what: "pubsub", allowed: keys, context: context) else { return nil }
        for key in ["subscribe", "publish"] {
            guard let value = map[key], let items = context.stringListNodes(value, key: key) else { continue }
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
            if key == "subscribe" { pubsub.subscribe = patterns } else { pubsub.publish = patterns }
        }
        if map["subscribe"] == nil, map["publish"] == nil {
            context.error("'pubsub' needs 'subscribe' and/or 'publish' channel patterns", at: node)
        }
        if let value = map["max_queued_bytes"], let size = context.size(value, key: "max_queued_bytes") {
            pubsub.maxQueuedBytes = size
        }
        if let value = map["max_message_bytes"], let size = context.size(value, key: "max_message_bytes") {
            pubsub.maxMessageBytes = size
        }
        return pubsub
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
