/// The validated configuration of one gateway process: what `conf/gateway.yaml` (and its includes) say,
/// with every default filled in. Built by ``ConfigLoader``; immutable once built, swapped whole on reload.
public struct GatewayConfiguration: Sendable, Equatable {
    public var server: ServerSettings
    public var store: StoreSettings
    /// Upstreams in file order (names are unique).
    public var upstreams: [UpstreamSettings]
    public var sessions: SessionSettings?
    /// `cache:` (SPEC §11); nil = no caching anywhere.
    public var cache: CacheSettings? = nil
    /// Routes in file order; includes are appended after the including file's own routes.
    public var routes: [RouteSettings]
    /// `auth:` providers (JWT verifiers, forward-auth services) that routes name.
    public var auth: AuthSettings = AuthSettings()
    /// `observability:` (tracing). Read once at start: a reload that changes it logs that a restart is needed.
    public var observability = ObservabilitySettings()
    /// Every file that contributed (the main file first), for logs and `check`.
    public var sourceFiles: [String]
    /// Accepted but probably not meant (e.g. `path_prefix: /api` also matching `/apix`): `check` prints them,
    /// `serve` logs them. Never stop a load.
    public var warnings: [ConfigError] = []

    public init(
        server: ServerSettings = ServerSettings(),
        store: StoreSettings = StoreSettings(),
        upstreams: [UpstreamSettings] = [],
        sessions: SessionSettings? = nil,
        routes: [RouteSettings] = [],
        sourceFiles: [String] = []
    ) {
        self.server = server
        self.store = store
        self.upstreams = upstreams
        self.sessions = sessions
        self.routes = routes
        self.sourceFiles = sourceFiles
    }

    public func upstream(named name: String) -> UpstreamSettings? {
        upstreams.first { $0.name == name }
    }
}

/// `host:port`, as written in `listen:` keys. Host may be an IPv4/IPv6 literal or a name.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An IPv4 or IPv6 network in CIDR form, e.g. `127.0.0.1/32` or `::1/128`.
public struct CIDRBlock: Sendable, Equatable, CustomStringConvertible {
    /// Network address bytes: 4 for IPv4, 16 for IPv6.
    public var address: [UInt8]
    public var prefixLength: Int

    public init(address: [UInt8], prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `ip` (4 or 16 bytes) lies in this block. IPv4-mapped IPv6 addresses match IPv4 blocks.
    public func contains(_ ip: [UInt8]) -> Bool {
        var candidate = ip
        if address.count == 4, ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xff, ip[11] == 0xff {
            candidate = Array(ip[12..<16])
        }
        guard candidate.count == address.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if candidate[index] & mask != address[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        if address.count == 4 {
            return address.map(String.init).joined(separator: ".") + "/\(prefixLength)"
        }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(address[index]) << 8 | UInt16(address[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "/\(prefixLength)"
    }
}

public enum AccessLogTarget: Sendable, Equatable {
    case stdout
    /// File descriptor 2 itself (shared with the process log through one writer), never `/dev/stderr` reopened.
    case stderr
    case off
    case file(path: String)
}

/// `access_log: { format: ... }`: one JSON object per line, or nginx's `combined` for existing tooling.
public enum AccessLogFormat: String, Sendable, Equatable, CaseIterable {
    case json
    case combined
}

public struct ServerSettings: Sendable, Equatable {
    public var listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080)
    /// nil = no admin listener.
    public var adminListen: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 9901)
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxBodyBytes: Int = 10 * 1024 * 1024
    public var clientHeaderTimeout: Duration = .seconds(10)
    public var clientIdleTimeout: Duration = .seconds(60)
    public var shutdownGrace: Duration = .seconds(10)
    public var trustedProxies: [CIDRBlock] = []
    public var accessLog: AccessLogTarget = .stdout
    public var accessLogFormat: AccessLogFormat = .json
    /// Event-loop threads; 0 = one per core. (Extension: `server.workers`.)
    public var workers: Int = 0
    /// Longest gap between two reads of a request body → 408 + close (`timeouts.client_body`, SPEC §13).
    public var clientBodyTimeout: Duration = .seconds(60)
    /// Longest request target → 414 (`max_uri_bytes`, SPEC §13).
    public var maxURIBytes: Int = 8 * 1024
    /// Forward client header names containing `_` (`underscores_in_headers`, off like nginx).
    public var underscoresInHeaders: Bool = false
    /// Merge `//` into `/` when normalising paths (`merge_slashes`, on like nginx).
    public var mergeSlashes: Bool = true
    /// `server.listeners` (SPEC §7): extra listeners, plain, TLS or redirecting. See `ListenerSettings`.
    public var listeners: [ListenerSettings] = []
    /// Whether `listen:` was written; with `listeners:` present, an unwritten `listen` binds nothing.
    public var listenWritten: Bool = false
    /// `server.hsts`: Strict-Transport-Security on TLS responses; nil = off.
    public var hsts: HSTSSettings? = nil
    /// `server.http2`: HTTP/2 connection limits and flood defences.
    public var http2 = HTTP2ServerSettings()
    /// nil = the admin listener answers everyone (keep it on loopback).
    public var adminAuth: AdminAuthSettings? = nil

    public init() {}
}

public enum StoreFailurePolicy: String, Sendable, Equatable, CaseIterable {
    /// Admit requests while the store is unreachable.
    case allow
    /// Refuse (503) requests of limited routes while the store is unreachable.
    case deny
    /// Fall back to an in-process limiter with the same limits.
    case local
}

public struct StoreSettings: Sendable, Equatable {
    /// `redis://[user:pass@]host:port/db` or `unix:///path`; nil = in-memory store (single instance).
    /// `GATEWAY_REDIS_URL` in the environment overrides the file.
    public var redisURL: String? = nil
    /// `store.cluster` / `store.sentinel` (SPEC §8); at most one of redis | cluster | sentinel is set.
    public var cluster: ClusterStoreSettings? = nil
    public var sentinel: SentinelStoreSettings? = nil
    public var keyPrefix: String = "gw:"
    public var commandTimeout: Duration = .milliseconds(100)
    public var onError: StoreFailurePolicy = .allow
    /// `store.tls`: trust and client certificate for `rediss://`.
    public var tls: ClientTLSFiles? = nil

    public init() {}
}

public enum BalanceStrategy: String, Sendable, Equatable, CaseIterable {
    case roundRobin = "round_robin"
    case leastConn = "least_conn"
    case randomTwo = "random_two"
    case ipHash = "ip_hash"
    case cookie = "cookie"
}

public struct ReplicaSettings: Sendable, Equatable {
    /// As written, e.g. `http://127.0.0.1:9001` (no trailing slash).
    public var url: String
    public var host: String
    public var port: Int
    public var weight: Int
    /// An `https://` replica: TLS, verified (see the upstream's `tls` and `insecure_skip_verify`).
    public var tls: Bool = false

    public init(url: String, host: String, port: Int, weight: Int = 1, tls: Bool = false) {
        self.url = url
        self.host = host
        self.port = port
        self.weight = weight
        self.tls = tls
    }
}

public struct HealthCheckSettings: Sendable, Equatable {
    public var path: String = "/health"
    public var interval: Duration = .seconds(2)
    public var timeout: Duration = .seconds(1)
    public var unhealthyAfter: Int = 2
    public var healthyAfter: Int = 2

    public init() {}
}

public struct PassiveHealthSettings: Sendable, Equatable {
    public var failures: Int = 3
    public var ejectFor: Duration = .seconds(10)
    /// Repeated ejections double `ejectFor` up to this cap. (Extension: `passive.max_eject_for`.)
    public var maxEjectFor: Duration = .seconds(300)

    public init() {}
}

public struct UpstreamSettings: Sendable, Equatable {
    public var name: String
    public var balance: BalanceStrategy = .roundRobin
    public var replicas: [ReplicaSettings] = []
    /// Idle pooled connections kept per replica.
    public var keepalive: Int = 64
    /// nil = no active checks.
    public var health: HealthCheckSettings? = nil
    /// nil = passive checks off (`passive: false`); on by default.
    public var passive: PassiveHealthSettings? = PassiveHealthSettings()
    public var retries: Int = 1
    /// Name of the affinity cookie for `balance: cookie`. (Extension: `affinity_cookie`.)
    public var affinityCookie: String = "gw_affinity"
    /// `panic_threshold` as a fraction (0.5 = 50%): below this share of healthy replicas, balance over all of
    /// them (Envoy's healthy panic threshold). nil = off: no healthy replica → 503.
    public var panicThreshold: Double? = nil
    /// Trust, SNI name and client certificate for `https://` replicas; nil = system trust, SNI = the replica's host.
    public var tls: ClientTLSFiles? = nil
    /// Accept any replica certificate (development only; logged as a warning at every start).
    public var insecureSkipVerify: Bool = false

    public init(name: String) {
        self.name = name
    }
}

public struct SessionSettings: Sendable, Equatable {
    public var cookie: String = "gw_session"
    public var secretEnv: String = "GATEWAY_SESSION_SECRET"
    public var idleTimeout: Duration = .seconds(30 * 60)
    public var absoluteTimeout: Duration = .seconds(12 * 3600)
    public var secure: Bool = false
    /// Where the `sessions` block was written (startup errors about the secret point here).
    public var location: SourceLocation? = nil

    public init() {}
}

public struct RouteMatch: Sendable, Equatable {
    /// Exact path.
    public var path: String? = nil
    public var pathPrefix: String? = nil
    /// Host header to match (without port), case-insensitive.
    public var host: String? = nil
    /// Upper-cased method names; nil = any method.
    public var methods: [String]? = nil

    public init() {}
}

public enum StripPrefix: Sendable, Equatable {
    case none
    /// `strip_prefix: true`: remove the route's `path_prefix`.
    case matchedPrefix
    /// `strip_prefix: /api/v1`: remove exactly this prefix when present.
    case literal(String)
}

public struct RouteTimeouts: Sendable, Equatable {
    public var connect: Duration = .seconds(1)
    /// Until the upstream's response head arrives.
    public var response: Duration = .seconds(15)

    public init() {}
}

public struct CompressionSettings: Sendable, Equatable {
    public static let defaultTypes = [
        "text/*", "application/json", "application/javascript", "application/xml", "image/svg+xml",
        "+json", "+xml",
    ]
    public var minBytes: Int = 1024
    /// zlib level 1...9.
    public var level: Int = 5
    /// Media types; `text/*` matches a family, `+json` matches a suffix.
    public var types: [String] = CompressionSettings.defaultTypes

    public init() {}
}

public enum SessionMode: String, Sendable, Equatable, CaseIterable {
    case off
    case optional
    case required
    case issue
}

public enum RateLimitKey: Sendable, Equatable, CustomStringConvertible {
    case clientIP
    /// Header name as written (compare case-insensitively).
    case header(String)
    case sessionUser
    /// One budget for everyone on the route.
    case route
    /// The verified client certificate's subject on mTLS listeners; the client IP elsewhere. (SPEC §7.)
    case clientCert
    /// A claim of the verified JWT (`jwt:sub`); the client IP when the route has no (valid) token.
    case jwtClaim(String)

    public var description: String {
        switch self {
        case .clientIP: return "client_ip"
        case .header(let name): return "header:\(name)"
        case .sessionUser: return "session_user"
        case .route: return "route"
        case .clientCert: return "client_cert"
        case .jwtClaim(let claim): return "jwt:\(claim)"
        }
    }
}

public struct RateLimitSettings: Sendable, Equatable {
    public var name: String
    public var key: RateLimitKey
    public var limit: Int
    public var window: Duration
    /// Defaults to `limit`.
    public var burst: Int

    public init(name: String, key: RateLimitKey, limit: Int, window: Duration, burst: Int? = nil) {
        self.name = name
        self.key = key
        self.limit = limit
        self.window = window
        self.burst = burst ?? limit
    }
}

public struct PubSubSettings: Sendable, Equatable {
    /// Channel patterns a client may subscribe to; `*` matches any run of characters, `{user}` the session user.
    public var subscribe: [String] = []
    public var publish: [String] = []
    /// Outbound bytes queued per client before it is closed with 1013. (Extension.)
    public var maxQueuedBytes: Int = 1024 * 1024
    /// Largest accepted client frame/message. (Extension.)
    public var maxMessageBytes: Int = 64 * 1024
    /// Channels whose messages are kept in a bounded history (SPEC §9). nil = no history.
    public var history: PubSubHistorySettings? = nil
    /// Channel patterns with presence (who is subscribed, across instances).
    public var presence: [String] = []
    /// Publish budget (SPEC §9 `publish_rate`). nil = unlimited.
    public var publishRate: PubSubPublishRate? = nil
    /// `.sse` for `sse:` routes (Server-Sent Events, subscribe only).
    public var transport: PubSubTransport = .websocket
    /// SSE: how often a comment line keeps an idle stream open. (Extension; default 15 s.)
    public var sseKeepalive: Duration = .seconds(15)

    public init() {}
}

/// Where a construct was written, for messages at run time (`check` summaries, reload logs).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

public struct RouteSettings: Sendable, Equatable {
    public var name: String
    public var match: RouteMatch = RouteMatch()
    /// nil only for `pubsub` routes, which the gateway answers itself.
    public var upstream: String? = nil
    public var stripPrefix: StripPrefix = .none
    public var timeouts: RouteTimeouts = RouteTimeouts()
    /// nil = compression off.
    public var compress: CompressionSettings? = nil
    /// Overrides `server.max_body_bytes`.
    public var maxBodyBytes: Int? = nil
    public var session: SessionMode = .off
    public var rateLimits: [RateLimitSettings] = []
    public var websocket: Bool = false
    public var pubsub: PubSubSettings? = nil
    /// nil unless the route serves files itself (`static:`).
    public var staticFiles: StaticFilesSettings? = nil
    /// Edge policies (SPEC §10), checked in the request phase in this order: ip, CORS preflight, auth.
    public var auth: RouteAuth? = nil
    public var cors: CORSSettings? = nil
    public var ip: IPRules? = nil
    public var requestHeaders: HeaderRuleSettings? = nil
    public var responseHeaders: HeaderRuleSettings? = nil
    /// The route's response cache (`cache:`); used only when the top-level `cache:` is set.
    public var cache: RouteCacheSettings? = nil
    public var location: SourceLocation? = nil

    public init(name: String) {
        self.name = name
    }
}
