import Yams

/// The per-route edge keys (SPEC §10): `auth`, `cors`, `ip`, `request_headers`, `response_headers`.
enum EdgeRouteDecoder {
    static let routeKeys = ["auth", "cors", "ip", "request_headers", "response_headers"]
    static let authKeys = ["jwt", "forward", "optional"]
    static let corsKeys = ["origins", "methods", "headers", "expose", "credentials", "max_age"]
    static let ipKeys = ["allow", "deny"]
    static let headerRuleKeys = ["set", "add", "remove"]

    static func decode(_ map: MappingReader, into route: inout RouteSettings, context: DecodeContext) {
        if let value = map["auth"] { route.auth = auth(value, context: context) }
        if let value = map["cors"] { route.cors = cors(value, context: context) }
        if let value = map["ip"] { route.ip = ip(value, context: context) }
        if let value = map["request_headers"] { route.requestHeaders = headerRules(value, what: "request_headers", context: context) }
        if let value = map["response_headers"] {
            route.responseHeaders = headerRules(value, what: "response_headers", context: context)
        }
    }

    static func auth(_ node: Node, context: DecodeContext) -> RouteAuth? {
        guard let map = MappingReader(node, what: "auth", allowed: authKeys, context: context) else { return nil }
        var providers: [RouteAuth.Provider] = []
        if let value = map["jwt"], let name = context.nonEmptyString(value, key: "jwt") { providers.append(.jwt(name)) }
        if let value = map["forward"], let name = context.nonEmptyString(value, key: "forward") { providers.append(.forward(name)) }
        guard providers.count == 1, let provider = providers.first else {
            if providers.count > 1 {
                context.error("a route's 'auth' names either 'jwt' or 'forward', not both", at: node)
            } else if map["jwt"] == nil, map["forward"] == nil {
                context.error("'auth' needs 'jwt: NAME' or 'forward: NAME' (a provider declared under the top-level 'auth')", at: node)
            }
            return nil
        }
        var auth = RouteAuth(provider: provider)
        auth.location = context.location(of: map["jwt"] ?? map["forward"] ?? node)
        if let value = map["optional"], let flag = context.bool(value, key: "optional") { auth.optional = flag }
        return auth
    }

    static func cors(_ node: Node, context: DecodeContext) -> CORSSettings? {
        guard let map = MappingReader(node, what: "cors", allowed: corsKeys, context: context),
            let originsNode = map.required("origins"), let origins = context.stringList(originsNode, key: "origins")
        else { return nil }
        var cors = CORSSettings()
        for origin in origins {
            if let problem = originProblem(origin) {
                context.error("'origins': \(problem)", at: originsNode)
            } else {
                cors.origins.append(origin.lowercased())
            }
        }
        if origins.isEmpty { context.error("'origins' must list at least one origin (or \"*\")", at: originsNode) }
        if let value = map["methods"], let methods = context.stringList(value, key: "methods") {
            for method in methods where !method.allSatisfy(\.isHTTPTokenCharacter) {
                context.error("'\(method)' is not an HTTP method name", at: value)
            }
            cors.methods = methods.map { $0.uppercased() }
        }
        for key in ["headers", "expose"] {
            guard let value = map[key], let names = context.stringList(value, key: key) else { continue }
            for name in names where name != "*" && !name.allSatisfy(\.isHTTPTokenCharacter) {
                context.error("'\(key)': '\(name)' is not a header name", at: value)
            }
            if key == "headers" { cors.headers = names } else { cors.expose = names }
        }
        if let value = map["credentials"], let flag = context.bool(value, key: "credentials") {
            cors.credentials = flag
            if flag, cors.origins.contains("*") {
                context.error(
                    "'credentials: true' cannot be combined with origins: [\"*\"] (browsers refuse it); list the origins", at: value)
            }
        }
        if let value = map["max_age"], let duration = context.duration(value, key: "max_age", positive: false) {
            cors.maxAge = duration
        }
        return cors
    }

    /// `*`, `scheme://host[:port]`, or `scheme://*.domain[:port]` (one leading label).
    static func originProblem(_ origin: String) -> String? {
        if origin == "*" { return nil }
        guard let schemeEnd = origin.range(of: "://") else {
            return "'\(origin)' is not an origin; write scheme://host[:port], e.g. https://app.example.com"
        }
        let scheme = origin[..<schemeEnd.lowerBound]
        let rest = origin[schemeEnd.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
            return "'\(origin)' has no valid scheme"
        }
        guard !rest.isEmpty, !rest.contains("/") else {
            return "'\(origin)' must not have a path; an origin is scheme://host[:port]"
        }
        if rest.contains("*") {
            guard rest.hasPrefix("*."), !rest.dropFirst(2).contains("*"), rest.dropFirst(2).contains(where: { $0 != "." }) else {
                return "'\(origin)': a wildcard stands for exactly one leading label, as in https://*.example.com"
            }
        }
        return nil
    }

    static func ip(_ node: Node, context: DecodeContext) -> IPRules? {
        guard let map = MappingReader(node, what: "ip", allowed: ipKeys, context: context) else { return nil }
        var rules = IPRules()
        for key in ipKeys {
            guard let value = map[key], let entries = context.stringListNodes(value, key: key) else { continue }
            let blocks = entries.compactMap { entry in
                context.parsed(entry, key: key) { text throws(ValueParseError) in try CIDRBlock.parse(text) }
            }
            if key == "allow" { rules.allow = blocks } else { rules.deny = blocks }
        }
        if map["allow"] == nil, map["deny"] == nil {
            context.error("'ip' needs 'allow' and/or 'deny' lists of addresses or CIDR blocks", at: node)
        }
        return rules
    }

    static func headerRules(_ node: Node, what: String, context: DecodeContext) -> HeaderRuleSettings? {
        guard let map = MappingReader(node, what: what, allowed: headerRuleKeys, context: context) else { return nil }
        var rules = HeaderRuleSettings()
        for key in ["set", "add"] {
            guard let value = map[key] else { continue }
            guard case .mapping(let mapping) = value else {
                context.error("'\(what).\(key)' must be a mapping of Header-Name: value, got \(value.kindDescription)", at: value)
                continue
            }
            for (nameNode, valueNode) in mapping {
                guard let name = context.nonEmptyString(nameNode, key: key), let text = context.string(valueNode, key: name) else {
                    continue
                }
                guard name.allSatisfy(\.isHTTPTokenCharacter) else {
                    context.error("'\(name)' is not a header name", at: nameNode)
                    continue
                }
                guard !text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                    context.error("the value of '\(name)' must not contain CR, LF or NUL", at: valueNode)
                    continue
                }
                let field = HeaderField(name: name, value: text)
                if key == "set" { rules.set.append(field) } else { rules.add.append(field) }
            }
        }
        if let value = map["remove"], let names = context.stringListNodes(value, key: "remove") {
            for item in names {
                guard let name = context.nonEmptyString(item, key: "remove") else { continue }
                if name.allSatisfy(\.isHTTPTokenCharacter) {
                    rules.remove.append(name)
                } else {
                    context.error("'\(name)' is not a header name", at: item)
                }
            }
        }
        return rules
    }
}
