import Foundation
import GatewayConfig

/// `gateway check --json`: a machine-readable summary (what scripts such as `scripts/dev.sh` read), with stable
/// keys: `ok`, `files`, `listen`, `admin_listen`, `routes`, `upstreams`, `store`, `warnings`; or `ok: false` and
/// `errors` with file, line, column and message.
enum CheckReport {
    static func json(_ config: GatewayConfiguration) -> String {
        let routes: [[String: Any]] = config.routes.map { route in
            var match: [String: Any] = [:]
            if let path = route.match.path { match["path"] = path }
            if let prefix = route.match.pathPrefix { match["path_prefix"] = prefix }
            if let host = route.match.host { match["host"] = host }
            if let methods = route.match.methods { match["methods"] = methods }
            var entry: [String: Any] = [
                "name": route.name, "match": match, "upstream": route.upstream ?? NSNull(),
                "kind": route.pubsub != nil ? "pubsub" : (route.websocket ? "websocket" : "proxy"),
                "summary": ConfigSummary.line(for: route),
            ]
            if let location = route.location { entry["location"] = location.description }
            return entry
        }
        let upstreams: [[String: Any]] = config.upstreams.map { upstream in
            [
                "name": upstream.name, "balance": upstream.balance.rawValue,
                "health_checks": upstream.health != nil,
                "replicas": upstream.replicas.map { replica -> [String: Any] in
                    ["url": replica.url, "host": replica.host, "port": replica.port, "weight": replica.weight]
                },
            ]
        }
        var store: [String: Any] = ["mode": "memory"]
        if let url = config.store.redisURL {
            store["mode"] = "redis"
            store["redis"] = ConfigSummary.redacted(url)
        } else if config.store.cluster != nil {
            store["mode"] = "cluster"
        } else if config.store.sentinel != nil {
            store["mode"] = "sentinel"
        }
        let object: [String: Any] = [
            "ok": true,
            "files": config.sourceFiles,
            "listen": address(config.server.listen),
            "admin_listen": config.server.adminListen.map(address) ?? NSNull(),
            "routes": routes,
            "upstreams": upstreams,
            "store": store,
            "sessions": config.sessions != nil,
            "warnings": config.warnings.map(error),
            "summary": ConfigSummary.overview(for: config),
        ]
        return serialize(object)
    }

    static func failure(_ errors: [ConfigError]) -> String {
        serialize(["ok": false, "errors": errors.map(error)])
    }

    private static func address(_ address: ListenAddress) -> [String: Any] {
        ["host": address.host, "port": address.port, "address": address.description]
    }

    private static func error(_ error: ConfigError) -> [String: Any] {
        ["file": error.file, "line": error.line, "column": error.column, "message": error.message]
    }

    private static func serialize(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
