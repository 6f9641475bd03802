import Yams

/// `upstreams:` — a mapping of name → settings (as in the SPEC), or a list of settings with `name`.
enum UpstreamDecoder {
    static let keys = ["balance", "replicas", "keepalive", "health", "passive", "retries", "affinity_cookie", "panic_threshold"]
    static let healthKeys = ["path", "interval", "timeout", "unhealthy_after", "healthy_after"]
    static let passiveKeys = ["failures", "eject_for", "max_eject_for"]

    static func decodeAll(_ node: Node, context: DecodeContext) -> [UpstreamDraft] {
        switch node {
        case .mapping(let mapping):
            return mapping.compactMap { key, value in
                guard let name = context.string(key, key: "upstreams") else { return nil }
                return decode(name: name, nameNode: key, body: value, allowed: keys, context: context)
            }
        case .sequence(let sequence):
            return sequence.compactMap { item in
                guard let map = MappingReader(item, what: "upstream", allowed: ["name"] + keys, context: context),
                    let nameNode = map.required("name"), let name = context.string(nameNode, key: "name")
                else { return nil }
                return decode(name: name, nameNode: nameNode, body: item, allowed: ["name"] + keys, context: context,
                              alreadyChecked: map)
            }
        default:
            context.error("'upstreams' must be a mapping of name → settings, got \(node.kindDescription)", at: node)
            return []
        }
    }

    static func decode(name: String, nameNode: Node, body: Node, allowed: [String], context: DecodeContext,
                       alreadyChecked: MappingReader? = nil) -> UpstreamDraft? {
        if !NameRules.isValid(name) {
            context.error("upstream name '\(name)' \(NameRules.message)", at: nameNode)
        }
        var upstream = UpstreamSettings(name: name)
        let draft = { UpstreamDraft(settings: upstream, nameLocation: context.location(of: nameNode)) }
        if body.isNull {
            context.error("upstream '\(name)' needs at least one replica", at: nameNode)
            return draft()
        }
        guard let map = alreadyChecked ?? MappingReader(body, what: "upstream '\(name)'", allowed: allowed, context: context)
        else { return draft() }

        if let value = map["balance"], let strategy = context.enumeration(value, key: "balance", as: BalanceStrategy.self) {
            upstream.balance = strategy
        }
        if let value = map["replicas"] {
            upstream.replicas = replicas(value, context: context)
            if case .sequence(let list) = value, list.isEmpty {
                context.error("upstream '\(name)' needs at least one replica", at: value)
            }
        } else {
            context.error("upstream '\(name)' needs at least one replica ('replicas' is missing)", at: map.node)
        }
        if let value = map["keepalive"], let count = context.int(value, key: "keepalive", atLeast: 0) {
            upstream.keepalive = count
        }
        if let value = map["retries"], let count = context.int(value, key: "retries", atLeast: 0, atMost: 10) {
            upstream.retries = count
        }
        if let value = map["affinity_cookie"], let cookie = context.nonEmptyString(value, key: "affinity_cookie") {
            if cookie.allSatisfy(\.isCookieTokenCharacter) {
                upstream.affinityCookie = cookie
            } else {
                context.error("'affinity_cookie': '\(cookie)' is not a valid cookie name", at: value)
            }
        }
        if let value = map["panic_threshold"] { upstream.panicThreshold = panicThreshold(value, context: context) }
        if let value = map["health"] { upstream.health = health(value, context: context) }
        if let value = map["passive"] { upstream.passive = passive(value, context: context) }
        return draft()
    }

    static func replicas(_ node: Node, context: DecodeContext) -> [ReplicaSettings] {
        guard case .sequence(let list) = node else {
            context.error("'replicas' must be a list of URLs or {url, weight} mappings, got \(node.kindDescription)", at: node)
            return []
        }
        var replicas: [ReplicaSettings] = []
        var seen: [String: SourceLocation] = [:]
        for item in list {
            var replica: ReplicaSettings?
            var urlNode = item
            if case .mapping = item {
                guard let map = MappingReader(item, what: "replica", allowed: ["url", "weight"], context: context),
                    let url = map.required("url")
                else { continue }
                urlNode = url
                replica = parseURL(url, context: context)
                if let weightNode = map["weight"], let weight = context.int(weightNode, key: "weight", atLeast: 1, atMost: 1000) {
                    replica?.weight = weight
                }
            } else {
                replica = parseURL(item, context: context)
            }
            guard let replica else { continue }
            if let first = seen[replica.url] {
                context.error("duplicate replica \(replica.url) (already listed at \(first.line):\(first.column))", at: urlNode)
                continue
            }
            seen[replica.url] = context.location(of: urlNode)
            replicas.append(replica)
        }
        return replicas
    }

    private static func parseURL(_ node: Node, context: DecodeContext) -> ReplicaSettings? {
        context.parsed(node, key: "url") { text throws(ValueParseError) in
            try ReplicaURLParser.parse(text)
        }
    }

    /// `panic_threshold: 50%` → 0.5; `0%`/`false` = off. A percentage from 0 to 100.
    static func panicThreshold(_ node: Node, context: DecodeContext) -> Double? {
        if context.optionalBool(node) == false { return nil }
        guard let text = context.nonEmptyString(node, key: "panic_threshold") else { return nil }
        let trimmed = text.filter { $0 != " " }
        guard trimmed.hasSuffix("%"), let percent = Double(trimmed.dropLast()), percent >= 0, percent <= 100 else {
            context.error("'panic_threshold' must be a percentage from 0% to 100%, e.g. 50%, got '\(text)'", at: node)
            return nil
        }
        return percent == 0 ? nil : percent / 100
    }

    /// `health: true` = defaults, `false` = no active checks.
    static func health(_ node: Node, context: DecodeContext) -> HealthCheckSettings? {
        if let flag = context.optionalBool(node) { return flag ? HealthCheckSettings() : nil }
        var health = HealthCheckSettings()
        guard let map = MappingReader(node, what: "health", allowed: healthKeys, context: context) else { return health }
        if let value = map["path"], let path = context.nonEmptyString(value, key: "path") {
            if path.hasPrefix("/") { health.path = path } else { context.error("'path' must start with '/'", at: value) }
        }
        if let value = map["interval"], let duration = context.duration(value, key: "interval") { health.interval = duration }
        if let value = map["timeout"], let duration = context.duration(value, key: "timeout") { health.timeout = duration }
        if let value = map["unhealthy_after"], let count = context.int(value, key: "unhealthy_after", atLeast: 1) {
            health.unhealthyAfter = count
        }
        if let value = map["healthy_after"], let count = context.int(value, key: "healthy_after", atLeast: 1) {
            health.healthyAfter = count
        }
        return health
    }

    /// `passive: false` = off, `true` = defaults.
    static func passive(_ node: Node, context: DecodeContext) -> PassiveHealthSettings? {
        if let flag = context.optionalBool(node) { return flag ? PassiveHealthSettings() : nil }
        var passive = PassiveHealthSettings()
        guard let map = MappingReader(node, what: "passive", allowed: passiveKeys, context: context) else { return passive }
        if let value = map["failures"], let count = context.int(value, key: "failures", atLeast: 1) { passive.failures = count }
        if let value = map["eject_for"], let duration = context.duration(value, key: "eject_for") { passive.ejectFor = duration }
        if let value = map["max_eject_for"], let duration = context.duration(value, key: "max_eject_for") {
            passive.maxEjectFor = duration
        }
        if passive.maxEjectFor < passive.ejectFor {
            if map["max_eject_for"] != nil {
                context.error("'max_eject_for' must be at least 'eject_for'", at: map["max_eject_for"]!)
            } else {
                passive.maxEjectFor = passive.ejectFor
            }
        }
        return passive
    }
}
