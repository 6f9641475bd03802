import Yams

/// `routes:` — a list of route mappings with `name` (as in the SPEC), or a mapping name → route.
enum RouteDecoder {
    static let keys = [
        "match", "upstream", "strip_prefix", "timeouts", "compress", "max_body_bytes", "session", "rate_limits",
        "websocket", "pubsub", "sse", "static", "cache",
    ] + EdgeRouteDecoder.routeKeys
    static let matchKeys = ["path", "path_prefix", "host", "methods"]

    static func decodeAll(_ node: Node, context: DecodeContext) -> [RouteDraft] {
        switch node {
        case .sequence(let sequence):
            return sequence.compactMap { item in
                guard let map = MappingReader(item, what: "route", allowed: ["name"] + keys, context: context),
                    let nameNode = map.required("name"), let name = context.string(nameNode, key: "name")
                else { return nil }
                return decode(name: name, nameNode: nameNode, map: map, context: context)
            }
        case .mapping(let mapping):
            return mapping.compactMap { key, value in
                guard let name = context.string(key, key: "routes"),
                    let map = MappingReader(value, what: "route '\(name)'", allowed: keys, context: context)
                else { return nil }
                return decode(name: name, nameNode: key, map: map, context: context)
            }
        default:
            context.error("'routes' must be a list of routes, got \(node.kindDescription)", at: node)
            return []
        }
    }

    static func decode(name: String, nameNode: Node, map: MappingReader, context: DecodeContext) -> RouteDraft {
        if !NameRules.isValid(name) {
            context.error("route name '\(name)' \(NameRules.message)", at: nameNode)
        }
        var route = RouteSettings(name: name)
        route.location = map.location
        var draft = RouteDraft(settings: route, nameLocation: context.location(of: nameNode))

        if let value = map.required("match") { route.match = match(value, context: context) }
        if let value = map["upstream"], let upstream = context.nonEmptyString(value, key: "upstream") {
            route.upstream = upstream
            draft.upstreamLocation = context.location(of: value)
        }
        if let value = map["strip_prefix"] {
            if let flag = context.optionalBool(value) {
                if flag {
                    if route.match.pathPrefix == nil {
                        context.error("'strip_prefix: true' needs 'match.path_prefix' (or give the prefix to strip as a string)", at: value)
                    } else {
                        route.stripPrefix = .matchedPrefix
                    }
                }
            } else if let text = context.nonEmptyString(value, key: "strip_prefix") {
                if text.hasPrefix("/") {
                    route.stripPrefix = .literal(text)
                } else {
                    context.error("'strip_prefix' must be true, false or a path starting with '/', got '\(text)'", at: value)
                }
            }
        }
        if let value = map["timeouts"],
            let timeouts = MappingReader(value, what: "route timeouts", allowed: ["connect", "response"], context: context)
        {
            if let node = timeouts["connect"], let duration = context.duration(node, key: "connect") {
                route.timeouts.connect = duration
            }
            if let node = timeouts["response"], let duration = context.duration(node, key: "response") {
                route.timeouts.response = duration
            }
        }
        if let value = map["compress"] { route.compress = compression(value, context: context) }
        if let value = map["max_body_bytes"], let size = context.size(value, key: "max_body_bytes", positive: false) {
            route.maxBodyBytes = size
        }
        if let value = map["session"], let mode = context.enumeration(value, key: "session", as: SessionMode.self) {
            route.session = mode
            draft.sessionLocation = context.location(of: value)
        }
        if let value = map["rate_limits"] {
            route.rateLimits = RateLimitDecoder.decodeAll(value, context: context, draft: &draft)
        }
        if let value = map["websocket"], let flag = context.bool(value, key: "websocket") {
            route.websocket = flag
            draft.websocketLocation = context.location(of: value)
        }
        if let value = map["pubsub"] {
            draft.pubsubLocation = context.location(of: map.keyNode("pubsub") ?? value)
            route.pubsub = PubSubDecoder.decode(value, context: context, draft: &draft)
        }
        if let value = map["sse"] {
            // An `sse` route is a pub/sub route on another transport: same validation, same hub.
            if map["pubsub"] != nil {
                context.error("'sse' and 'pubsub' cannot be combined in one route; declare two routes", at: value)
            } else {
                draft.pubsubLocation = context.location(of: map.keyNode("sse") ?? value)
                route.pubsub = PubSubDecoder.decodeSSE(value, context: context, draft: &draft)
            }
        }
        if let value = map["static"] {
            draft.staticLocation = context.location(of: map.keyNode("static") ?? value)
            route.staticFiles = StaticFilesDecoder.decode(value, context: context)
        }
        EdgeRouteDecoder.decode(map, into: &route, context: context)
        if route.auth != nil { draft.authLocation = route.auth?.location }
        if let value = map["cache"] { route.cache = CacheDecoder.decodeRoute(value, context: context) }
        draft.settings = route
        return draft
    }

    static func match(_ node: Node, context: DecodeContext) -> RouteMatch {
        var match = RouteMatch()
        guard let map = MappingReader(node, what: "match", allowed: matchKeys, context: context) else { return match }
        for key in ["path", "path_prefix"] {
            guard let value = map[key], let path = context.nonEmptyString(value, key: key) else { continue }
            guard path.hasPrefix("/") else {
                context.error("'\(key)' must start with '/', got '\(path)'", at: value)
                continue
            }
            if key == "path" {
                match.path = path
            } else {
                match.pathPrefix = path
                if !path.hasSuffix("/") {
                    // A plain string prefix: `/api` also matches `/apix` and `/api-internal`.
                    context.warning(
                        "'path_prefix: \(path)' also matches '\(path)x' and '\(path)-anything'; end it with '/' "
                            + "('\(path)/') to match only below it, or add a 'path: \(path)' route for the exact path",
                        at: value)
                }
            }
        }
        if let exact = map["path"], map["path_prefix"] != nil {
            context.error("a route matches either 'path' (exact) or 'path_prefix', not both", at: exact)
        }
        if let value = map["host"], let host = context.nonEmptyString(value, key: "host") {
            if host.contains("*"), !(host.hasPrefix("*.") && !host.dropFirst(2).contains("*") && host.count > 2) {
                context.error("'host': a wildcard stands for one leading label, as in \"*.example.com\"; got '\(host)'", at: value)
            } else if host.contains("/") || host.contains(" ") {
                context.error("'host' must be a host name like api.example.com, got '\(host)'", at: value)
            } else {
                match.host = host.lowercased()
            }
        }
        if let value = map["methods"], let nodes = context.stringListNodes(value, key: "methods") {
            var methods: [String] = []
            for item in nodes {
                guard let method = context.nonEmptyString(item, key: "methods") else { continue }
                guard method.allSatisfy(\.isHTTPTokenCharacter) else {
                    context.error("'\(method)' is not an HTTP method name", at: item)
                    continue
                }
                if !methods.contains(method.uppercased()) { methods.append(method.uppercased()) }
            }
            if nodes.isEmpty {
                context.error("'methods' must list at least one method (omit it to allow any)", at: value)
            }
            match.methods = methods
        }
        if map["path"] == nil, map["path_prefix"] == nil, map["host"] == nil {
            context.error("'match' needs 'path', 'path_prefix' or 'host'", at: node)
        }
        return match
    }

    /// `compress: false`/omitted = off, `true` or `{}` = defaults, a mapping overrides them.
    static func compression(_ node: Node, context: DecodeContext) -> CompressionSettings? {
        if let flag = context.optionalBool(node) { return flag ? CompressionSettings() : nil }
        var compression = CompressionSettings()
        guard let map = MappingReader(node, what: "compress", allowed: ["min_bytes", "level", "types"], context: context)
        else { return nil }
        if let value = map["min_bytes"], let size = context.size(value, key: "min_bytes", positive: false) {
            compression.minBytes = size
        }
        if let value = map["level"], let level = context.int(value, key: "level", atLeast: 1, atMost: 9) {
            compression.level = level
        }
        if let value = map["types"], let types = context.stringList(value, key: "types") {
            if types.isEmpty {
                context.error("'types' must list at least one media type (use compress: false to turn compression off)", at: value)
            } else {
                compression.types = types.map { $0.lowercased() }
            }
        }
        return compression
    }
}
