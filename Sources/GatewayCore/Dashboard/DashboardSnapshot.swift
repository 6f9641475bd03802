import Foundation
import GatewayConfig
import GatewayUpstreams
import NIOConcurrencyHelpers
import Prometheus

/// Builds one frame of `GET /events` (the JSON documented in docs/dashboard.md) from the running gateway.
///
/// Called once per second by `EventsFeed` while at least one viewer is connected, never otherwise; the frame is
/// shared by every viewer. Totals come from the Prometheus registry (the same numbers `/metrics` shows), the
/// per-route windows from `LiveStats`, replicas from the upstream registry.
final class DashboardSnapshot: Sendable {
    struct Sources: Sendable {
        var registry: UpstreamRegistry
        var snapshots: SnapshotHolder
        var prometheus: PrometheusCollectorRegistry
        var readiness: @Sendable () -> (ready: Bool, store: String)
        var live: LiveStats
    }

    let sources: Sources
    let startedAt = Date()
    /// Counter totals of the previous frame, for per-second rates.
    private let previous = NIOLockedValueBox<(at: Date, totals: [String: Double])?>(nil)

    static let metricNames: Set<String> = [
        "gateway_connections_open", "gateway_http_in_flight", "gateway_ratelimit_decisions_total",
        "gateway_pubsub_messages_total", "gateway_pubsub_slow_consumers_total", "gateway_websocket_connections",
        "gateway_store_errors_total", "gateway_upstream_requests_total", "gateway_upstream_retries_total",
    ]

    init(sources: Sources) {
        self.sources = sources
    }

    /// Forgets the previous frame (the feed stopped; the next first frame has no rates to compare with).
    func reset() {
        previous.withLockedValue { $0 = nil }
    }

    func frame(now: Date = Date()) -> String {
        let metrics = PrometheusSamples(text: sources.prometheus.emitToString(), names: Self.metricNames)
        let snapshot = sources.snapshots.current
        let config = snapshot.configuration
        var totals: [String: Double] = [:]
        for sample in metrics.named("gateway_pubsub_messages_total") {
            totals["pubsub." + (sample.labels["direction"] ?? "?")] = sample.value
        }
        let last = previous.withLockedValue { previous -> (at: Date, totals: [String: Double])? in
            defer { previous = (now, totals) }
            return previous
        }
        func rate(_ key: String) -> JSONValue {
            guard let last, let before = last.totals[key], let current = totals[key] else { return .int(0) }
            let seconds = now.timeIntervalSince(last.at)
            return seconds > 0 ? .double(max(0, current - before) / seconds) : .int(0)
        }

        let websockets = Dictionary(
            metrics.named("gateway_websocket_connections").map { ($0.labels["route"] ?? "-", Int($0.value)) },
            uniquingKeysWith: +)
        let routeNames = config.routes.map(\.name) + ["-"]
        var routeDocs: [JSONValue] = []
        var totalRate = 0
        for name in routeNames {
            let series = sources.live.series(for: name) ?? RouteSeries()
            let history = series.history
            let lastSecond = history.last
            totalRate += lastSecond?.requests ?? 0
            if name == "-" && series.totals.reduce(0, +) == 0 { continue }
            let settings = config.routes.first { $0.name == name }
            let (p50, p99) = series.recentPercentiles
            var doc: [(String, JSONValue)] = [
                ("name", .string(name)),
                ("rps", .int(lastSecond?.requests ?? 0)),
                ("p50_ms", .number(p50)),
                ("p99_ms", .number(p99)),
                ("requests_total", .int(series.totals.reduce(0, +))),
                ("status_total", Self.classes(series.totals)),
                ("status_last_second", Self.classes(lastSecond?.classes ?? [0, 0, 0, 0, 0])),
                ("websockets", .int(websockets[name] ?? 0)),
                (
                    "series",
                    .object([
                        ("rps", .array(history.map { .int($0.requests) })),
                        ("p50_ms", .array(history.map { .number($0.p50) })),
                        ("p99_ms", .array(history.map { .number($0.p99) })),
                        ("2xx", .array(history.map { .int($0.classes[1]) })),
                        ("3xx", .array(history.map { .int($0.classes[2]) })),
                        ("4xx", .array(history.map { .int($0.classes[3]) })),
                        ("5xx", .array(history.map { .int($0.classes[4]) })),
                    ])
                ),
            ]
            if name == "-" { doc.append(("unrouted", .bool(true))) }
            if let settings { doc.append(contentsOf: Self.routeConfig(settings)) }
            routeDocs.append(.object(doc))
        }

        let rateLimits: [JSONValue] = Self.rateLimitRows(metrics)
        let (ready, storeState) = sources.readiness()
        let document: JSONValue = .object([
            ("time", .string(JSONTextTime.iso8601(now))),
            ("uptime_s", .int(Int(now.timeIntervalSince(startedAt)))),
            ("gateway_version", .string(GatewayVersion.current)),
            ("config", .object([("version", .int(snapshot.version)), ("files", .array(config.sourceFiles.map { .string($0) }))])),
            (
                "totals",
                .object([
                    ("connections_open", .int(Int(metrics.sum("gateway_connections_open")))),
                    ("in_flight", .int(Int(metrics.sum("gateway_http_in_flight")))),
                    ("requests_per_s", .int(totalRate)),
                    ("websockets", .int(websockets.values.reduce(0, +))),
                    ("upstream_retries_total", .int(Int(metrics.sum("gateway_upstream_retries_total")))),
                ])
            ),
            (
                "store",
                .object([
                    ("kind", .string(config.store.redisURL == nil ? "memory" : "redis")),
                    ("up", .bool(ready)),
                    ("state", .string(storeState)),
                    ("url", config.store.redisURL.map { .string(DashboardSnapshot.redacted($0)) } ?? .null),
                    ("on_error", .string(config.store.onError.rawValue)),
                    ("errors_total", .int(Int(metrics.sum("gateway_store_errors_total")))),
                ])
            ),
            ("upstreams", .array(Self.upstreamDocs(sources.registry.snapshot(), metrics: metrics))),
            ("routes", .array(routeDocs)),
            ("rate_limits", .array(rateLimits)),
            (
                "pubsub",
                .object([
                    (
                        "messages_per_s",
                        .object(["published", "received", "delivered", "dropped"].map { ($0, rate("pubsub." + $0)) })
                    ),
                    (
                        "messages_total",
                        .object(["published", "received", "delivered", "dropped"].map { ($0, .int(Int(totals["pubsub." + $0] ?? 0))) })
                    ),
                    ("slow_consumer_closes", .int(Int(metrics.sum("gateway_pubsub_slow_consumers_total")))),
                ])
            ),
            ("errors", .array(sources.live.recentErrors.reversed().map(Self.errorDoc))),
        ])
        return document.rendered
    }

    static func classes(_ counts: [Int]) -> JSONValue {
        .object((0..<5).map { ("\($0 + 1)xx", .int(counts[$0])) })
    }

    static func routeConfig(_ route: RouteSettings) -> [(String, JSONValue)] {
        var match: [(String, JSONValue)] = []
        if let path = route.match.path { match.append(("path", .string(path))) }
        if let prefix = route.match.pathPrefix { match.append(("path_prefix", .string(prefix))) }
        if let host = route.match.host { match.append(("host", .string(host))) }
        if let methods = route.match.methods { match.append(("methods", .array(methods.map { .string($0) }))) }
        let kind = route.pubsub != nil ? "pubsub" : (route.websocket ? "websocket" : "proxy")
        return [
            ("kind", .string(kind)),
            ("match", .object(match)),
            ("upstream", route.upstream.map { .string($0) } ?? .null),
            ("session", .string(route.session.rawValue)),
            (
                "limits",
                .array(
                    route.rateLimits.map {
                        .object([
                            ("name", .string($0.name)), ("limit", .int($0.limit)),
                            ("window_s", .double(Double($0.window.components.seconds))),
                        ])
                    })
            ),
            ("summary", .string(ConfigSummary.line(for: route))),
        ]
    }

    static func rateLimitRows(_ metrics: PrometheusSamples) -> [JSONValue] {
        struct Key: Hashable { var route: String; var limit: String }
        var rows: [Key: (allowed: Int, denied: Int)] = [:]
        var order: [Key] = []
        for sample in metrics.named("gateway_ratelimit_decisions_total") {
            let key = Key(route: sample.labels["route"] ?? "-", limit: sample.labels["limit"] ?? "-")
            if rows[key] == nil { order.append(key) }
            var row = rows[key] ?? (0, 0)
            if sample.labels["result"] == "allowed" { row.allowed += Int(sample.value) } else { row.denied += Int(sample.value) }
            rows[key] = row
        }
        return order.sorted { ($0.route, $0.limit) < ($1.route, $1.limit) }.map { key in
            let row = rows[key]!
            return .object([
                ("route", .string(key.route)), ("limit", .string(key.limit)),
                ("allowed", .int(row.allowed)), ("denied", .int(row.denied)),
            ])
        }
    }

    static func upstreamDocs(_ snapshot: UpstreamsSnapshot, metrics: PrometheusSamples) -> [JSONValue] {
        let attempts = metrics.named("gateway_upstream_requests_total")
        return snapshot.upstreams.map { upstream in
            .object([
                ("name", .string(upstream.name)),
                ("balance", .string(upstream.balance)),
                (
                    "replicas",
                    .array(
                        upstream.replicas.enumerated().map { index, replica in
                            var outcomes: [(String, JSONValue)] = []
                            for sample in attempts
                            where sample.labels["upstream"] == upstream.name && sample.labels["replica"] == replica.url {
                                outcomes.append((sample.labels["outcome"] ?? "?", .int(Int(sample.value))))
                            }
                            return .object([
                                ("index", .int(index)),
                                ("url", .string(replica.url)),
                                ("weight", .int(replica.weight)),
                                ("state", .string(replica.state.rawValue)),
                                ("in_flight", .int(replica.inFlight)),
                                ("consecutive_failures", .int(replica.consecutiveFailures)),
                                (
                                    "last_check",
                                    replica.lastCheck.map {
                                        .object([
                                            ("at", .string(JSONTextTime.iso8601($0.at))), ("ok", .bool($0.ok)),
                                            ("status", $0.status.map { .int($0) } ?? .null),
                                        ])
                                    } ?? .null
                                ),
                                ("ejected_until", replica.ejectedUntil.map { .string(JSONTextTime.iso8601($0)) } ?? .null),
                                ("requests_total", .object(outcomes.sorted { $0.0 < $1.0 })),
                            ])
                        })
                ),
            ])
        }
    }

    static func errorDoc(_ record: GatewayErrorRecord) -> JSONValue {
        .object([
            ("at", .string(JSONTextTime.iso8601(record.at, fractional: true))),
            ("request_id", .string(record.requestID)),
            ("route", .string(record.route)),
            ("method", .string(record.method)),
            ("path", .string(record.path)),
            ("status", .int(record.status)),
            ("detail", .string(record.detail)),
        ])
    }
}

enum JSONTextTime {
    /// `2026-12-02T11:20:31Z`, or `2026-12-02T11:20:31.120Z` with `fractional`.
    static func iso8601(_ date: Date, fractional: Bool = false) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension DashboardSnapshot {
    /// `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0` (the page is for people, not secrets).
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", range: schemeEnd.upperBound..<url.endIndex)
        else { return url }
        let credentials = url[schemeEnd.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at.lowerBound...])
    }
}
