import Yams

/// A YAML mapping checked against the keys it may hold.
///
/// Unknown keys are reported at their position with a "did you mean" hint; keys whose value is
/// empty (`key:` or `key: null`) count as absent.
struct MappingReader {
    let context: DecodeContext
    let node: Node
    /// What the mapping is, for messages: "route", "server.timeouts"...
    let what: String
    private(set) var keyOrder: [String] = []
    private var entries: [String: (key: Node, value: Node)] = [:]

    /// Nil (after reporting) when `node` is not a mapping.
    init?(_ node: Node, what: String, allowed: [String], context: DecodeContext) {
        guard case .mapping(let mapping) = node else {
            context.error("'\(what)' must be a mapping, got \(node.kindDescription)", at: node)
            return nil
        }
        self.context = context
        self.node = node
        self.what = what
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                context.error("keys in '\(what)' must be plain names, got \(key.kindDescription)", at: key)
                continue
            }
            let name = scalar.string
            guard allowed.contains(name) else {
                let hint = Suggestion.closest(to: name, in: allowed).map { " (did you mean '\($0)'?)" }
                    ?? "; expected one of: \(allowed.joined(separator: ", "))"
                context.error("unknown key '\(name)' in \(what)\(hint)", at: key)
                continue
            }
            if value.isNull { continue }
            entries[name] = (key, value)
            keyOrder.append(name)
        }
    }

    subscript(key: String) -> Node? { entries[key]?.value }

    func keyNode(_ key: String) -> Node? { entries[key]?.key }

    var location: SourceLocation { context.location(of: node) }

    /// The value, or nil after reporting that the key is missing.
    func required(_ key: String) -> Node? {
        if let value = entries[key]?.value { return value }
        context.error("\(what) is missing required key '\(key)'", at: node)
        return nil
    }
}
