import Yams

/// `cache:` (top level) and a route's `cache:` block (SPEC §11).
enum CacheDecoder {
    static let keys = ["max_object_bytes", "memory"]
    static let routeKeys = ["ttl", "stale_while_revalidate", "stale_if_error", "key", "methods", "store_set_cookie"]

    /// `cache: true` means all defaults, `cache: false` means no caching.
    static func decode(_ node: Node, context: DecodeContext) -> CacheSettings? {
        var cache = CacheSettings()
        cache.location = context.location(of: node)
        if let flag = context.optionalBool(node) { return flag ? cache : nil }
        guard let map = MappingReader(node, what: "cache", allowed: keys, context: context) else { return nil }
        if let value = map["max_object_bytes"], let size = context.size(value, key: "max_object_bytes") {
            cache.maxObjectBytes = size
        }
        if let value = map["memory"], let size = context.size(value, key: "memory", positive: false) {
            cache.memoryBytes = size
        }
        return cache
    }

    /// A route's `cache:`; `true` = defaults, `false` = off.
    static func decodeRoute(_ node: Node, context: DecodeContext) -> RouteCacheSettings? {
        var cache = RouteCacheSettings()
        cache.location = context.location(of: node)
        if let flag = context.optionalBool(node) { return flag ? cache : nil }
        guard let map = MappingReader(node, what: "route cache", allowed: routeKeys, context: context) else { return nil }
        if let value = map["ttl"], let duration = context.duration(value, key: "ttl") { cache.ttl = duration }
        if let value = map["stale_while_revalidate"],
            let duration = context.duration(value, key: "stale_while_revalidate", positive: false)
        {
            cache.staleWhileRevalidate = duration
        }
        if let value = map["stale_if_error"], let duration = context.duration(value, key: "stale_if_error", positive: false) {
            cache.staleIfError = duration
        }
        if let value = map["key"], let nodes = context.stringListNodes(value, key: "key") {
            var components: [CacheKeyComponent] = []
            for item in nodes {
                guard let text = context.nonEmptyString(item, key: "key") else { continue }
                if let component = component(text) {
                    components.append(component)
                } else {
                    context.error(
                        "'key': '\(text)' is not a cache key component; use method, host, path, query or header:NAME"
                            + Suggestion.hint(for: text, in: ["method", "host", "path", "query"]), at: item)
                }
            }
            if nodes.isEmpty { context.error("'key' must list at least one component", at: value) }
            cache.key = components
        }
        if let value = map["methods"], let nodes = context.stringListNodes(value, key: "methods") {
            var methods: [String] = []
            for item in nodes {
                guard let method = context.nonEmptyString(item, key: "methods") else { continue }
                let upper = method.uppercased()
                guard upper == "GET" || upper == "HEAD" else {
                    context.error("'methods': only GET and HEAD responses are cached, got '\(method)'", at: item)
                    continue
                }
                if !methods.contains(upper) { methods.append(upper) }
            }
            if nodes.isEmpty { context.error("'methods' must list GET and/or HEAD", at: value) }
            cache.methods = methods
        }
        if let value = map["store_set_cookie"], let flag = context.bool(value, key: "store_set_cookie") {
            cache.storeSetCookie = flag
        }
        return cache
    }

    static func component(_ text: String) -> CacheKeyComponent? {
        switch text.lowercased() {
        case "method": return .method
        case "host": return .host
        case "path": return .path
        case "query": return .query
        default:
            guard text.lowercased().hasPrefix("header:") else { return nil }
            let name = String(text.dropFirst("header:".count)).trimmingSpaces()
            guard !name.isEmpty, name.allSatisfy(\.isHTTPTokenCharacter) else { return nil }
            return .header(name.lowercased())
        }
    }
}

extension CacheDecoder {
    /// A route `cache:` without the top-level `cache:` would silently cache nothing: say so.
    static func validate(routes: [RouteSettings], cache: CacheSettings?, diagnostics: Diagnostics) {
        for route in routes {
            guard let settings = route.cache, let location = settings.location else { continue }
            if cache == nil {
                diagnostics.report(
                    "route '\(route.name)': 'cache' needs the top-level 'cache:' block (e.g. 'cache: { memory: 64MiB }')",
                    at: location)
            }
            if route.upstream == nil {
                diagnostics.report("route '\(route.name)': 'cache' caches upstream responses; this route has no 'upstream'", at: location)
            }
        }
    }
}
