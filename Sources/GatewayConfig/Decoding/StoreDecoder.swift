import Yams

/// `store:` — Redis URL (checked, kept as written), key prefix, command timeout, failure policy.
enum StoreDecoder {
    static let keys = ["redis", "key_prefix", "command_timeout", "on_error", "tls"]

    static func decode(_ node: Node, context: DecodeContext) -> StoreSettings {
        var store = StoreSettings()
        guard let map = MappingReader(node, what: "store", allowed: keys, context: context) else { return store }
        if let value = map["redis"],
            context.parsed(value, key: "redis", { text throws(ValueParseError) in try RedisURL.parse(text) }) != nil,
            let text = context.string(value, key: "redis")
        {
            store.redisURL = text.trimmingSpaces()
        }
        if let value = map["key_prefix"], let text = context.string(value, key: "key_prefix") {
            store.keyPrefix = text
        }
        if let value = map["command_timeout"], let duration = context.duration(value, key: "command_timeout") {
            store.commandTimeout = duration
        }
        if let value = map["on_error"], let policy = context.enumeration(value, key: "on_error", as: StoreFailurePolicy.self) {
            store.onError = policy
        }
        if let value = map["tls"] {
            store.tls = ListenersDecoder.clientTLS(value, what: "store.tls", allowServerName: true, context: context)
        }
        return store
    }
}
