import Yams

/// `rate_limits:` — `{ name, key, limit, window, burst }` items. `name` defaults to the key.
enum RateLimitDecoder {
    static let keys = ["name", "key", "limit", "window", "burst"]
    static let keyNames = ["client_ip", "session_user", "route", "header:NAME", "jwt:CLAIM"]

    static func decodeAll(_ node: Node, context: DecodeContext, draft: inout RouteDraft) -> [RateLimitSettings] {
        guard case .sequence(let list) = node else {
            context.error("'rate_limits' must be a list of {name, key, limit, window}, got \(node.kindDescription)", at: node)
            return []
        }
        var limits: [RateLimitSettings] = []
        var names: [String: SourceLocation] = [:]
        for item in list {
            guard let map = MappingReader(item, what: "rate limit", allowed: keys, context: context) else { continue }
            var key: RateLimitKey?
            if let value = map.required("key") {
                key = parseKey(value, context: context)
                if key == .sessionUser { draft.sessionUserKeyLocations.append(context.location(of: value)) }
                if case .jwtClaim = key { draft.jwtKeyLocations.append(context.location(of: value)) }
            }
            let limit = map.required("limit").flatMap { context.int($0, key: "limit", atLeast: 1) }
            let window = map.required("window").flatMap { context.duration($0, key: "window") }
            let burst = map["burst"].flatMap { context.int($0, key: "burst", atLeast: 1) }
            var name = key?.description ?? ""
            if let value = map["name"], let text = context.nonEmptyString(value, key: "name") {
                name = text
                if !NameRules.isValid(text) { context.error("rate limit name '\(text)' \(NameRules.message)", at: value) }
            }
            guard let key, let limit, let window, map["burst"] == nil || burst != nil else { continue }
            let nameNode = map["name"] ?? item
            if let first = names[name] {
                context.error(
                    "duplicate rate limit name '\(name)' in this route (first at \(first.line):\(first.column)); give each limit a distinct 'name'",
                    at: nameNode)
                continue
            }
            names[name] = context.location(of: nameNode)
            limits.append(RateLimitSettings(name: name, key: key, limit: limit, window: window, burst: burst))
        }
        return limits
    }

    static func parseKey(_ node: Node, context: DecodeContext) -> RateLimitKey? {
        guard let text = context.nonEmptyString(node, key: "key") else { return nil }
        switch text {
        case "client_ip": return .clientIP
        case "session_user": return .sessionUser
        case "route": return .route
        case "client_cert": return .clientCert
        default:
            if text.hasPrefix("jwt:") {
                let claim = String(text.dropFirst("jwt:".count)).trimmingSpaces()
                guard !claim.isEmpty, claim.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                    context.error("'key': 'jwt:CLAIM' needs a claim name, e.g. jwt:sub", at: node)
                    return nil
                }
                return .jwtClaim(claim)
            }
            if text.hasPrefix("header:") {
                let header = String(text.dropFirst("header:".count)).trimmingSpaces()
                guard !header.isEmpty, header.allSatisfy(\.isHTTPTokenCharacter) else {
                    context.error("'key': 'header:NAME' needs a header name, e.g. header:X-Api-Key", at: node)
                    return nil
                }
                return .header(header)
            }
            context.error(
                "'key' must be one of client_ip, session_user, route, client_cert, header:NAME or jwt:CLAIM, got '\(text)'"
                    + Suggestion.hint(for: text, in: keyNames),
                at: node)
            return nil
        }
    }
}
