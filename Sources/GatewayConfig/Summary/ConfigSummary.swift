/// The one-line-per-route summary `gateway check` prints, e.g.
/// `route api-v1: prefix /api/v1/ -> app (strip /api/v1/, session optional, 2 limits, gzip)`.
public enum ConfigSummary {
    public static func lines(for config: GatewayConfiguration) -> [String] {
        config.routes.map(line(for:))
    }

    /// `config OK: 5 routes, 2 upstreams, store redis://..., 2 files` — a closing line for `check`.
    public static func overview(for config: GatewayConfiguration) -> String {
        let store = config.store.redisURL.map { "store \(redacted($0))" }
            ?? config.store.cluster.map { "store cluster (\(plural($0.nodes.count, "seed")))" }
            ?? config.store.sentinel.map { "store sentinel \($0.master) (\(plural($0.nodes.count, "sentinel")))" }
            ?? "in-memory store"
        return "config OK: \(plural(config.routes.count, "route")), \(plural(config.upstreams.count, "upstream")), "
            + "\(store), \(plural(config.sourceFiles.count, "file"))"
    }

    public static func line(for route: RouteSettings) -> String {
        var match: [String] = []
        if let path = route.match.path { match.append("path \(path)") }
        if let prefix = route.match.pathPrefix { match.append("prefix \(prefix)") }
        if let host = route.match.host { match.append("host \(host)") }
        if let methods = route.match.methods { match.append("[\(methods.joined(separator: ","))]") }
        if match.isEmpty { match.append("any path") }

        let target = route.pubsub != nil ? "pubsub" : route.staticFiles.map { "static \($0.root)" } ?? (route.upstream ?? "?")
        var details: [String] = []
        switch route.stripPrefix {
        case .none: break
        case .matchedPrefix: details.append("strip \(route.match.pathPrefix ?? "")")
        case .literal(let prefix): details.append("strip \(prefix)")
        }
        if route.websocket { details.append("websocket") }
        if route.session != .off { details.append("session \(route.session.rawValue)") }
        if !route.rateLimits.isEmpty { details.append(plural(route.rateLimits.count, "limit")) }
        if route.compress != nil { details.append("gzip") }
        if let max = route.maxBodyBytes { details.append("max body \(SizeParser.format(max))") }
        if let pubsub = route.pubsub {
            if !pubsub.subscribe.isEmpty { details.append("subscribe \(pubsub.subscribe.joined(separator: " "))") }
            if !pubsub.publish.isEmpty { details.append("publish \(pubsub.publish.joined(separator: " "))") }
        }
        if let order = policyOrder(for: route) { details.append("policies \(order)") }
        if route.requestHeaders != nil || route.responseHeaders != nil { details.append("header rules") }
        if let host = route.match.host, host.hasPrefix("*.") { details.append("host wildcard") }
        let suffix = details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"
        return "route \(route.name): \(match.joined(separator: " ")) -> \(target)\(suffix)"
    }

    /// The request-phase order (SPEC §10) for routes with edge policies: `ip → cors → auth(jwt main) → rate_limits`.
    public static func policyOrder(for route: RouteSettings) -> String? {
        guard route.ip != nil || route.cors != nil || route.auth != nil else { return nil }
        var steps: [String] = []
        if route.ip != nil { steps.append("ip") }
        if route.cors != nil { steps.append("cors") }
        if let auth = route.auth {
            let optional = auth.optional ? " optional" : ""
            switch auth.provider {
            case .jwt(let name): steps.append("auth(jwt \(name)\(optional))")
            case .forward(let name): steps.append("auth(forward \(name)\(optional))")
            }
        }
        if route.session != .off { steps.append("session") }
        if !route.rateLimits.isEmpty { steps.append("rate_limits") }
        return steps.joined(separator: " → ")
    }

    private static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    /// Hides a password in `redis://user:pass@host`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}
