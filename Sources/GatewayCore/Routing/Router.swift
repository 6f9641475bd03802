import GatewayConfig
import GatewayEdge
import GatewayPolicies

/// The routing table compiled from the configuration: answers "which route serves this request".
///
/// Rules (SPEC §2): an exact `path` beats any prefix; among prefixes the longest wins; then `host` and `methods` must
/// match; ties go to file order. A path that matches some route but none of whose routes accept the method → 405.
/// Immutable; a reload builds a new one.
public struct Router: Sendable {
    public enum Outcome: Sendable {
        case matched(CompiledRoute)
        case notFound
        /// The path matched, the method did not; `allowed` lists the methods that would have matched.
        case methodNotAllowed(allowed: [String])
    }

    /// Routes ordered by precedence: exact paths first, then prefixes longest first, file order within a rank.
    private let ordered: [CompiledRoute]

    /// - Parameter upstreams: the resolved upstreams by name (`RouteUpstream.resolveAll`); a route whose upstream is
    ///   missing answers 503 (only tests build routers without them).
    init(routes: [RouteSettings], auth: AuthSettings, upstreams: [String: RouteUpstream]) {
        let compiled = routes.enumerated().map { position, settings in
            CompiledRoute(
                settings: settings, order: position, auth: auth,
                upstream: settings.upstream.flatMap { upstreams[$0] })
        }
        self.ordered = compiled.sorted { lhs, rhs in
            if lhs.rank != rhs.rank { return lhs.rank > rhs.rank }
            return lhs.order < rhs.order
        }
    }

    public init(routes: [RouteSettings], auth: AuthSettings = AuthSettings()) {
        self.init(routes: routes, auth: auth, upstreams: [:])
    }

    /// - Parameters:
    ///   - path: the request path without the query string.
    ///   - host: the Host header without port, lower-cased, or nil.
    public func route(method: String, path: String, host: String?) -> Outcome {
        var allowed: [String] = []
        var pathMatched = false
        for route in ordered where route.matchesPath(path) && route.matchesHost(host) {
            if route.matchesMethod(method) { return .matched(route) }
            // A CORS preflight is answered by the route's `cors` policy whatever its `methods` (SPEC §10).
            if method == "OPTIONS", route.edge.cors != nil { return .matched(route) }
            pathMatched = true
            allowed.append(contentsOf: route.methods ?? [])
        }
        return pathMatched ? .methodNotAllowed(allowed: Array(Set(allowed)).sorted()) : .notFound
    }
}

/// One route, with what the hot path needs precomputed: its match, its metric handles and its
/// `RateLimit-Policy` value. A class, so handing a route from request to request is one reference.
public final class CompiledRoute: Sendable {
    public let settings: RouteSettings
    public let order: Int
    let exactPath: String?
    let prefix: String?
    let host: HostPattern?
    let methods: [String]?
    /// The route's edge policies (ip, CORS, auth, header rules) resolved against `auth:`.
    let edge: RouteEdge
    let metrics: RouteMetrics
    /// The `RateLimit-Policy` field value; empty when the route has no limits.
    let rateLimitPolicy: String
    /// The upstream group with its settings, resolved when the snapshot was built; nil for routes without an
    /// upstream (static, pub/sub) and for routers built without a registry.
    let upstream: RouteUpstream?

    /// Higher wins: exact paths above every prefix, longer prefixes above shorter ones.
    var rank: Int {
        if exactPath != nil { return Int.max }
        return prefix?.utf8.count ?? 0
    }

    public var name: String { settings.name }

    init(settings: RouteSettings, order: Int, auth: AuthSettings = AuthSettings(), upstream: RouteUpstream? = nil) {
        self.settings = settings
        self.upstream = upstream
        self.order = order
        self.exactPath = settings.match.path
        self.prefix = settings.match.pathPrefix
        self.host = settings.match.host.map { HostPattern($0.lowercased()) }
        self.edge = RouteEdge(route: settings, auth: auth)
        self.methods = settings.match.methods?.map { $0.uppercased() }
        self.metrics = RouteMetrics(route: settings.name)
        self.rateLimitPolicy = RateLimitHeaders.policyField(settings.rateLimits)
    }

    func matchesPath(_ path: String) -> Bool {
        if let exactPath { return path == exactPath }
        if let prefix { return path.hasPrefix(prefix) }
        return true
    }

    func matchesHost(_ requestHost: String?) -> Bool {
        guard let host else { return true }
        return host.matches(requestHost)
    }

    func matchesMethod(_ method: String) -> Bool {
        guard let methods else { return true }
        return methods.contains(method)
    }

    /// The path sent upstream after `strip_prefix`. Query strings are handled by the caller.
    public func rewrite(path: String) -> String {
        let strip: String
        switch settings.stripPrefix {
        case .none: return path
        case .matchedPrefix: strip = prefix ?? exactPath ?? ""
        case .literal(let literal): strip = literal
        }
        guard !strip.isEmpty, path.hasPrefix(strip) else { return path }
        var rest = String(path.dropFirst(strip.utf8.count))
        if !rest.hasPrefix("/") { rest = "/" + rest }
        return rest
    }
}
