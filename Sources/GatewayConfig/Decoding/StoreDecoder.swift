import Yams

/// `store:` — exactly one of a Redis URL (checked, kept as written), `cluster` or `sentinel`; key prefix,
/// command timeout, failure policy.
enum StoreDecoder {
    static let keys = ["redis", "cluster", "sentinel", "key_prefix", "command_timeout", "on_error", "tls"]
    static let clusterKeys = ["nodes", "read_from_replicas"]
    static let sentinelKeys = ["master", "nodes", "db", "password_env", "sentinel_password_env"]

    static func decode(_ node: Node, context: DecodeContext) -> StoreSettings {
        var store = StoreSettings()
        guard let map = MappingReader(node, what: "store", allowed: keys, context: context) else { return store }
        if let value = map["redis"],
            context.parsed(value, key: "redis", { text throws(ValueParseError) in try RedisURL.parse(text) }) != nil,
            let text = context.string(value, key: "redis")
        {
            store.redisURL = text.trimmingSpaces()
        }
        let topologies = ["redis", "cluster", "sentinel"].filter { map[$0] != nil }
        if topologies.count > 1, let second = map.keyNode(topologies[1]) {
            context.error("store: exactly one of redis | cluster | sentinel may be set (found \(topologies.joined(separator: " and ")))",
                          at: second)
        }
        if let value = map["cluster"] { store.cluster = decodeCluster(value, context: context) }
        if let value = map["sentinel"] { store.sentinel = decodeSentinel(value, context: context) }
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

    static func decodeCluster(_ node: Node, context: DecodeContext) -> ClusterStoreSettings? {
        guard let map = MappingReader(node, what: "store.cluster", allowed: clusterKeys, context: context),
            let nodesNode = map.required("nodes"), let nodes = context.stringList(nodesNode, key: "nodes")
        else { return nil }
        guard !nodes.isEmpty else {
            context.error("'nodes' must list at least one cluster node", at: nodesNode)
            return nil
        }
        var ok = true
        for (index, text) in nodes.enumerated() {
            let itemNode: Node = if case .sequence(let items) = nodesNode, index < items.count { items[index] } else { nodesNode }
            let trimmed = text.trimmingSpaces()
            if trimmed.contains("://") {
                do {
                    let url = try RedisURL.parse(trimmed)
                    if case .unix = url.address {
                        context.error("'nodes': '\(text)': cluster nodes are redis://host:port", at: itemNode)
                        ok = false
                    } else if url.tls {
                        context.error(
                            "'nodes': '\(text)': TLS (rediss://) is supported for a single node (store.redis) only, not yet for a Redis Cluster",
                            at: itemNode)
                        ok = false
                    } else if url.database != 0 {
                        context.error("'nodes': '\(text)': a Redis Cluster has only database 0", at: itemNode)
                        ok = false
                    }
                } catch {
                    context.error("'nodes': \(error.message)", at: itemNode)
                    ok = false
                }
            } else if HostPort.parse(trimmed) == nil {
                context.error("'nodes': '\(text)' is not redis://host:port or host:port", at: itemNode)
                ok = false
            }
        }
        var settings = ClusterStoreSettings(nodes: nodes.map { $0.trimmingSpaces() })
        if let value = map["read_from_replicas"], let flag = context.bool(value, key: "read_from_replicas") {
            settings.readFromReplicas = flag
        }
        return ok ? settings : nil
    }

    static func decodeSentinel(_ node: Node, context: DecodeContext) -> SentinelStoreSettings? {
        guard let map = MappingReader(node, what: "store.sentinel", allowed: sentinelKeys, context: context) else { return nil }
        let master = map.required("master").flatMap { context.nonEmptyString($0, key: "master") }
        var nodes: [String]? = nil
        if let nodesNode = map.required("nodes"), let list = context.stringList(nodesNode, key: "nodes") {
            if list.isEmpty {
                context.error("'nodes' must list at least one sentinel (host:port)", at: nodesNode)
            } else if let bad = list.first(where: { HostPort.parse($0.trimmingSpaces()) == nil }) {
                context.error("'nodes': '\(bad)' is not host:port", at: nodesNode)
            } else {
                nodes = list.map { $0.trimmingSpaces() }
            }
        }
        let db = map["db"].map { context.int($0, key: "db", atLeast: 0) }
        let passwordEnv = map["password_env"].map { context.nonEmptyString($0, key: "password_env") }
        let sentinelPasswordEnv = map["sentinel_password_env"].map {
            context.nonEmptyString($0, key: "sentinel_password_env")
        }
        guard let master, let nodes else { return nil }
        var settings = SentinelStoreSettings(master: master, nodes: nodes)
        if let db = db ?? nil { settings.database = db }
        settings.passwordEnv = passwordEnv ?? nil
        settings.sentinelPasswordEnv = sentinelPasswordEnv ?? nil
        return settings
    }
}
