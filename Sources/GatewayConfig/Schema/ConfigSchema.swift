import Foundation

/// A JSON Schema (draft-07) of the configuration file, for editors (`# yaml-language-server: $schema=...`) and
/// validators. Built from the decoders' own key lists, so a key the loader accepts is in the schema and an unknown
/// key is refused by both (`additionalProperties: false` everywhere). Value syntax (durations, sizes, URLs) is
/// checked loosely here (patterns); `gateway check` remains the authority and names FILE:LINE:COLUMN.
public enum ConfigSchema {
    public static func json() -> String {
        let data = try! JSONSerialization.data(
            withJSONObject: document(), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    typealias Schema = [String: Any]

    /// A key may be written empty (`key:`), which counts as absent.
    static func optional(_ schema: Schema) -> Schema {
        ["anyOf": [schema, ["type": "null"]]]
    }

    static func object(_ properties: [String: Schema], keys: [String], required: [String] = [], description: String? = nil) -> Schema {
        precondition(Set(properties.keys) == Set(keys), "schema and decoder disagree: \(Set(properties.keys).symmetricDifference(keys))")
        var schema: Schema = [
            "type": "object", "additionalProperties": false,
            "properties": properties.mapValues { optional($0) },
        ]
        if !required.isEmpty { schema["required"] = required }
        if let description { schema["description"] = description }
        return schema
    }

    static func ref(_ name: String) -> Schema { ["$ref": "#/definitions/\(name)"] }
    static func text(_ description: String) -> Schema { ["type": "string", "description": description] }
    static func integer(minimum: Int? = nil, maximum: Int? = nil) -> Schema {
        var schema: Schema = ["type": "integer"]
        if let minimum { schema["minimum"] = minimum }
        if let maximum { schema["maximum"] = maximum }
        return schema
    }
    static var boolean: Schema { ["type": "boolean"] }
    static func oneOf(_ values: [String]) -> Schema { ["type": "string", "enum": values] }
    static func stringOrList(_ description: String) -> Schema {
        ["description": description, "anyOf": [["type": "string"], ["type": "array", "items": ["type": "string"]]]]
    }

    static let durationPattern = #"^\s*([0-9]+(\.[0-9]+)?\s*(us|µs|ms|s|m|h))+\s*$"#
    static let sizePattern = #"^\s*[0-9]+(\.[0-9]+)?\s*([KMGT]i?B|[kmgKMGT]|B)?\s*$"#

    static func definitions() -> [String: Schema] {
        let duration: Schema = ["type": "string", "pattern": durationPattern, "description": "a duration: 250ms, 2s, 1m, 1h, 1h30m"]
        let size: Schema = [
            "description": "a size: 512, 16KiB, 10MiB, 1GiB (KB/MB/GB = powers of 1000; 16k = 16KiB)",
            "anyOf": [["type": "integer", "minimum": 0], ["type": "string", "pattern": sizePattern]],
        ]
        let listen: Schema = [
            "description": "HOST:PORT, [IPV6]:PORT, :PORT, or a bare port number",
            "anyOf": [["type": "string"], ["type": "integer", "minimum": 0, "maximum": 65535]],
        ]
        let replica: Schema = [
            "anyOf": [
                ["type": "string", "pattern": "^https?://", "description": "http://host:port or https://host:port"],
                object(["url": ["type": "string", "pattern": "^https?://"], "weight": integer(minimum: 1)], keys: ["url", "weight"], required: ["url"]),
            ]
        ]
        let health = object(
            [
                "path": text("GET path of the check"), "interval": ref("duration"), "timeout": ref("duration"),
                "unhealthy_after": integer(minimum: 1), "healthy_after": integer(minimum: 1),
            ], keys: UpstreamDecoder.healthKeys)
        let passive = object(
            ["failures": integer(minimum: 1), "eject_for": ref("duration"), "max_eject_for": ref("duration")],
            keys: UpstreamDecoder.passiveKeys)
        let clientTLS = object(
            [
                "ca_file": text("PEM CA bundle to trust instead of the system store"),
                "server_name": text("name to send (SNI) and verify"),
                "client_cert": text("PEM client certificate"), "client_key": text("PEM client key"),
            ], keys: ["ca_file", "client_cert", "client_key", "server_name"])
        let upstreamProperties: [String: Schema] = [
            "balance": oneOf(BalanceStrategy.allCases.map(\.rawValue)),
            "replicas": ["type": "array", "items": replica, "minItems": 1],
            "keepalive": integer(minimum: 0),
            "health": ["anyOf": [boolean, health]],
            "passive": ["anyOf": [boolean, passive]],
            "retries": integer(minimum: 0),
            "affinity_cookie": text("cookie name for balance: cookie"),
            "panic_threshold": ["anyOf": [boolean, ["type": "string", "pattern": #"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"#]]],
            "tls": clientTLS,
            "insecure_skip_verify": boolean,
            "protocol": oneOf(["http1", "h2"]),
        ]
        let upstream = object(upstreamProperties, keys: UpstreamDecoder.keys, required: ["replicas"])
        var namedUpstreamProperties = upstreamProperties
        namedUpstreamProperties["name"] = text("upstream name")
        let namedUpstream = object(namedUpstreamProperties, keys: ["name"] + UpstreamDecoder.keys, required: ["name", "replicas"])

        let match = object(
            [
                "path": ["type": "string", "pattern": "^/", "description": "exact path"],
                "path_prefix": ["type": "string", "pattern": "^/", "description": "plain string prefix; end it with /"],
                "host": text("Host header without port, case-insensitive"),
                "methods": stringOrList("HTTP methods; omit for any"),
            ], keys: RouteDecoder.matchKeys)
        let rateLimit = object(
            [
                "name": text("limit name (RateLimit-Policy)"),
                "key": ["type": "string", "pattern": "^(client_ip|session_user|route|client_cert|header:.+|jwt:.+)$"],
                "limit": integer(minimum: 1), "window": ref("duration"), "burst": integer(minimum: 1),
            ], keys: RateLimitDecoder.keys, required: ["key", "limit", "window"])
        let compress: Schema = [
            "anyOf": [
                boolean,
                object(
                    ["min_bytes": ref("size"), "level": integer(minimum: 1, maximum: 9), "types": stringOrList("media types")],
                    keys: ["min_bytes", "level", "types"]),
            ]
        ]
        let history = object(
            ["channels": stringOrList("channel patterns that keep history"), "size": integer(minimum: 1), "ttl": ref("duration")],
            keys: PubSubDecoder.historyKeys)
        let pubsub = object(
            [
                "subscribe": stringOrList("channel patterns clients may subscribe to"),
                "publish": stringOrList("channel patterns clients may publish to"),
                "max_queued_bytes": ref("size"), "max_message_bytes": ref("size"),
                "history": history,
                "presence": stringOrList("channel patterns whose subscribers are listed across instances"),
                "publish_rate": object(
                    [
                        "limit": integer(minimum: 1), "window": ref("duration"), "burst": integer(minimum: 1),
                        "key": oneOf(PubSubPublishRate.Key.allCases.map(\.rawValue)),
                    ], keys: PubSubDecoder.publishRateKeys, required: ["limit", "window"]),
            ], keys: PubSubDecoder.keys)
        let sse = object(
            [
                "subscribe": stringOrList("channel patterns clients may stream"),
                "history": history,
                "presence": stringOrList("channel patterns with join/leave events"),
                "max_queued_bytes": ref("size"), "keepalive": ref("duration"),
            ], keys: PubSubDecoder.sseKeys)
        var routeProperties: [String: Schema] = [
            "match": match,
            "upstream": text("the name of an upstream declared under 'upstreams'"),
            "strip_prefix": ["anyOf": [boolean, ["type": "string", "pattern": "^/"]]],
            "timeouts": object(["connect": ref("duration"), "response": ref("duration")], keys: ["connect", "response"]),
            "compress": compress,
            "max_body_bytes": ref("size"),
            "session": oneOf(SessionMode.allCases.map(\.rawValue)),
            "rate_limits": ["type": "array", "items": rateLimit],
            "websocket": boolean,
            "pubsub": pubsub,
            "sse": sse,
            "cache": ["anyOf": [boolean, object(
                [
                    "ttl": ref("duration"), "stale_while_revalidate": ref("duration"), "stale_if_error": ref("duration"),
                    "key": ["description": "method, host, path, query, header:NAME (Vary is always added)",
                            "anyOf": [["type": "string"], ["type": "array", "items": ["type": "string", "pattern": "^(method|host|path|query|header:.+)$"]]]],
                    "methods": stringOrList("GET and/or HEAD"), "store_set_cookie": boolean,
                ], keys: CacheDecoder.routeKeys)]],
        ]
        for (key, schema) in extraRouteProperties() { routeProperties[key] = schema }
        for (key, schema) in edgeRouteProperties() { routeProperties[key] = schema }
        let route = object(routeProperties, keys: RouteDecoder.keys, required: ["match"])
        var namedRouteProperties = routeProperties
        namedRouteProperties["name"] = text("route name (letters, digits, - _ .)")
        let namedRoute = object(namedRouteProperties, keys: ["name"] + RouteDecoder.keys, required: ["name", "match"])

        let accessLog: Schema = [
            "anyOf": [
                boolean,
                ["type": "string", "description": "stdout | stderr | off | a file path"],
                object(
                    ["path": ["anyOf": [boolean, ["type": "string"]]], "format": oneOf(AccessLogFormat.allCases.map(\.rawValue))],
                    keys: AccessLogDecoder.keys),
            ]
        ]
        let server = object(
            [
                "listen": ref("listen"),
                "admin_listen": ["anyOf": [ref("listen"), ["type": "boolean", "enum": [false]]]],
                "max_header_bytes": ref("size"), "max_body_bytes": ref("size"),
                "timeouts": object(
                    ["client_header": ref("duration"), "client_idle": ref("duration"), "client_body": ref("duration")],
                    keys: ["client_header", "client_idle", "client_body"]),
                "shutdown_grace": ref("duration"),
                "trusted_proxies": stringOrList("CIDR blocks or addresses"),
                "access_log": accessLog,
                "workers": integer(minimum: 0, maximum: 1024),
                "max_uri_bytes": ref("size"), "underscores_in_headers": boolean, "merge_slashes": boolean,
                "listeners": ["type": "array", "items": object(
                    [
                        "address": ref("listen"),
                        "tls": object(
                            [
                                "certificates": ["type": "array", "minItems": 1, "items": object(
                                    ["cert": text("PEM certificate chain"), "key": text("PEM private key")],
                                    keys: ["cert", "key"], required: ["cert", "key"])],
                                "min_version": oneOf(["1.2", "1.3"]),
                                "client_ca": text("PEM CA bundle: require and verify client certificates (mTLS)"),
                            ], keys: ListenersDecoder.tlsKeys, required: ["certificates"]),
                        "http2": boolean,
                        "redirect_https": integer(minimum: 1, maximum: 65535),
                    ], keys: ListenersDecoder.listenerKeys, required: ["address"])],
                "hsts": object(["max_age": ref("duration"), "include_subdomains": boolean], keys: ["max_age", "include_subdomains"]),
                "http2": object(
                    [
                        "max_concurrent_streams": integer(minimum: 1, maximum: 2_147_483_647),
                        "max_header_list_bytes": ref("size"),
                        "max_resets": integer(minimum: 1), "reset_window": ref("duration"),
                        "max_control_frames": integer(minimum: 1), "control_frame_window": ref("duration"),
                    ], keys: HTTP2ServerSettings.keys),
                "admin_auth": object(
                    ["basic_users_file": text("htpasswd file with bcrypt hashes"), "token_env": text("variable holding a bearer token")],
                    keys: AdminAuthDecoder.keys),
            ], keys: ServerDecoder.keys)
        let store = object(
            [
                "redis": ["type": "string", "pattern": "^(redis|rediss|unix)://"],
                "tls": clientTLS,
                "cluster": object(
                    ["nodes": stringOrList("redis://host:port seed nodes"), "read_from_replicas": boolean],
                    keys: StoreDecoder.clusterKeys),
                "sentinel": object(
                    [
                        "master": text("the master name the sentinels monitor"),
                        "nodes": stringOrList("sentinel addresses"), "db": integer(minimum: 0),
                        "password_env": text("variable holding the data nodes' password"),
                        "sentinel_password_env": text("variable holding the sentinels' password"),
                    ], keys: StoreDecoder.sentinelKeys),
                "key_prefix": ["type": "string"], "command_timeout": ref("duration"),
                "on_error": oneOf(StoreFailurePolicy.allCases.map(\.rawValue)),
            ], keys: StoreDecoder.keys)
        let sessions: Schema = [
            "anyOf": [
                boolean,
                object(
                    [
                        "cookie": text("cookie name"),
                        "secret_env": ["type": "string", "pattern": "^[A-Za-z0-9_]+$", "description": "the NAME of the environment variable holding the secret"],
                        "idle_timeout": ref("duration"), "absolute_timeout": ref("duration"), "secure": boolean,
                    ], keys: SessionsDecoder.keys),
            ]
        ]
        return [
            "duration": duration, "size": size, "listen": listen,
            "upstream": upstream, "namedUpstream": namedUpstream,
            "route": route, "namedRoute": namedRoute,
            "server": server, "store": store, "sessions": sessions, "auth": authSchema(), "observability": observability(),
            "cache": ["anyOf": [boolean, object(["max_object_bytes": ref("size"), "memory": ref("size")], keys: CacheDecoder.keys)]],
            "upstreams": [
                "anyOf": [
                    ["type": "object", "additionalProperties": ref("upstream")],
                    ["type": "array", "items": ref("namedUpstream")],
                ]
            ],
            "routes": [
                "anyOf": [
                    ["type": "array", "items": ref("namedRoute")],
                    ["type": "object", "additionalProperties": ref("route")],
                ]
            ],
        ]
    }

    /// `observability:` (tracing over OTLP/HTTP).
    static func observability() -> Schema {
        object(
            [
                "tracing": object(
                    [
                        "otlp_endpoint": [
                            "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                            "description": "OTLP/HTTP collector: a base URL (/v1/traces is appended) or a full URL with a path",
                        ],
                        "service_name": text("service.name of the spans (default gateway)"),
                        "sample_ratio": [
                            "anyOf": [
                                ["type": "number", "minimum": 0, "maximum": 1],
                                ["type": "string", "pattern": #"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"#],
                            ],
                            "description": "share of new traces kept (parent-based); default 1",
                        ],
                    ], keys: ObservabilityDecoder.tracingKeys, required: ["otlp_endpoint"]),
            ], keys: ObservabilityDecoder.keys)
    }

    /// Route keys decoded outside the core route decoder (static files).
    static func extraRouteProperties() -> [String: Schema] {
        [
            "static": object(
                [
                    "root": text("directory to serve"), "index": text("file served for a directory (index.html)"),
                    "spa_fallback": boolean, "precompressed": boolean,
                    "cache": ["anyOf": [ref("duration"), ["type": "boolean", "enum": [false]]]],
                ], keys: StaticFilesDecoder.keys, required: ["root"])
        ]
    }

    /// Top-level `auth:` (SPEC §10).
    static func authSchema() -> Schema {
        let jwt = object(
            [
                "jwks_file": text("JWKS file (relative to the working directory, else to this file)"),
                "jwks_url": ["type": "string", "pattern": "^https?://", "description": "JWKS URL, cached and refreshed"],
                "secret_env": ["type": "string", "pattern": "^[A-Za-z0-9_]+$", "description": "variable holding the HS* secret"],
                "jwks_refresh": ref("duration"),
                "issuer": text("required `iss`"),
                "audience": stringOrList("accepted `aud` values"),
                "algorithms": ["type": "array", "items": oneOf(JWTProviderSettings.supportedAlgorithms)],
                "leeway": ref("duration"),
                "claims_to_headers": ["type": "object", "additionalProperties": ["type": "string"]],
                "user_claim": text("claim used as the user ({user}, rate-limit keys, access log)"),
            ], keys: AuthDecoder.jwtKeys)
        let forward = object(
            [
                "url": ["type": "string", "pattern": "^http://"],
                "copy_headers": stringOrList("auth-response headers copied to the upstream request"),
                "timeout": ref("duration"),
                "cache": ["anyOf": [ref("duration"), ["type": "boolean", "enum": [false]]]],
            ], keys: AuthDecoder.forwardKeys, required: ["url"])
        return object(
            [
                "jwt": ["type": "object", "additionalProperties": jwt],
                "forward": ["type": "object", "additionalProperties": forward],
            ], keys: AuthDecoder.keys)
    }

    /// The per-route edge keys (SPEC §10).
    static func edgeRouteProperties() -> [String: Schema] {
        let headerMap: Schema = ["type": "object", "additionalProperties": ["type": "string"]]
        let headerRules = object(
            ["set": headerMap, "add": headerMap, "remove": stringOrList("header names")], keys: EdgeRouteDecoder.headerRuleKeys)
        return [
            "auth": object(
                ["jwt": text("an auth.jwt provider"), "forward": text("an auth.forward service"), "optional": boolean],
                keys: EdgeRouteDecoder.authKeys),
            "cors": object(
                [
                    "origins": stringOrList("origins: https://app.example.com, https://*.example.com or *"),
                    "methods": stringOrList("allowed methods"), "headers": stringOrList("allowed request headers"),
                    "expose": stringOrList("response headers scripts may read"), "credentials": boolean,
                    "max_age": ref("duration"),
                ], keys: EdgeRouteDecoder.corsKeys, required: ["origins"]),
            "ip": object(
                ["allow": stringOrList("CIDR blocks or addresses"), "deny": stringOrList("CIDR blocks or addresses")],
                keys: EdgeRouteDecoder.ipKeys),
            "request_headers": headerRules,
            "response_headers": headerRules,
        ]
    }

    static func document() -> Schema {
        var top = object(
            [
                "server": ref("server"), "store": ref("store"), "upstreams": ref("upstreams"), "sessions": ref("sessions"),
                "cache": ref("cache"), "auth": ref("auth"), "routes": ref("routes"), "include": stringOrList("glob(s) of included files, relative to this file"),
                "observability": ref("observability"),
            ], keys: ConfigLoader.topLevelKeys, description: "gateway configuration (conf/gateway.yaml and included files)")
        top["$schema"] = "http://json-schema.org/draft-07/schema#"
        top["title"] = "gateway configuration"
        top["definitions"] = definitions()
        return top
    }
}
