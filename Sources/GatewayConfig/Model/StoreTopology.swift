/// `store.cluster`: a Redis Cluster (SPEC §8).
public struct ClusterStoreSettings: Sendable, Equatable {
    /// Seed nodes as written (`redis://[user:pass@]host:port` or `host:port`); the rest is discovered.
    public var nodes: [String]
    /// Accepted for compatibility; every gateway operation writes (rate limits, session refresh), so commands
    /// always go to primaries.
    public var readFromReplicas: Bool = false

    public init(nodes: [String], readFromReplicas: Bool = false) {
        self.nodes = nodes
        self.readFromReplicas = readFromReplicas
    }

    /// Seeds as `redis://` URLs (a bare `host:port` gets the scheme).
    public var seedURLs: [String] { nodes.map { $0.lowercased().hasPrefix("redis://") ? $0 : "redis://" + $0 } }
}

/// `store.sentinel`: a primary with replicas, managed by Redis Sentinel (SPEC §8).
public struct SentinelStoreSettings: Sendable, Equatable {
    public var master: String
    /// Sentinels as `host:port`.
    public var nodes: [String]
    public var database: Int = 0
    /// Environment variable holding the data nodes' password.
    public var passwordEnv: String? = nil
    /// Environment variable holding the sentinels' password.
    public var sentinelPasswordEnv: String? = nil

    public init(master: String, nodes: [String], database: Int = 0, passwordEnv: String? = nil,
                sentinelPasswordEnv: String? = nil) {
        self.master = master
        self.nodes = nodes
        self.database = database
        self.passwordEnv = passwordEnv
        self.sentinelPasswordEnv = sentinelPasswordEnv
    }
}

/// `host:port` (IPv6 in brackets) → its parts; nil when malformed.
public enum HostPort {
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            return nil
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { return nil }
        return (String(host), port)
    }
}
