import Yams

/// The file being decoded plus the shared error collector; every reader reports through it and
/// returns nil for a value it could not accept, so decoding continues and all errors are found.
struct DecodeContext {
    let file: String
    let diagnostics: Diagnostics

    func location(of node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func error(_ message: String, at node: Node) {
        diagnostics.report(message, at: location(of: node))
    }

    func warning(_ message: String, at node: Node) {
        diagnostics.warn(message, at: location(of: node))
    }

    // MARK: Scalars

    /// Strings. Integers and decimals are taken as written; booleans and null are refused,
    /// because YAML reads unquoted `on`, `off`, `yes`, `no` as booleans.
    func string(_ node: Node, key: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error("'\(key)' must be a string, got \(node.kindDescription)", at: node)
            return nil
        }
        switch node.tagName {
        case .bool, .null:
            error("'\(key)' must be a string, got \(node.kindDescription) (quote it: \"\(scalar.string)\")", at: node)
            return nil
        default:
            return scalar.string
        }
    }

    func nonEmptyString(_ node: Node, key: String) -> String? {
        guard let text = string(node, key: key) else { return nil }
        guard !text.isEmpty else {
            error("'\(key)' must not be empty", at: node)
            return nil
        }
        return text
    }

    func int(_ node: Node, key: String, atLeast minimum: Int? = nil, atMost maximum: Int? = nil) -> Int? {
        guard node.tagName == .int, let value = node.int else {
            error("'\(key)' must be an integer, got \(node.describedValue)", at: node)
            return nil
        }
        if let minimum, value < minimum {
            error("'\(key)' must be at least \(minimum), got \(value)", at: node)
            return nil
        }
        if let maximum, value > maximum {
            error("'\(key)' must be at most \(maximum), got \(value)", at: node)
            return nil
        }
        return value
    }

    func bool(_ node: Node, key: String) -> Bool? {
        guard node.tagName == .bool, let value = node.bool else {
            error("'\(key)' must be true or false, got \(node.describedValue)", at: node)
            return nil
        }
        return value
    }

    /// The boolean if `node` is one (`true`/`false`/`on`/`off`...), else nil without reporting.
    func optionalBool(_ node: Node) -> Bool? {
        node.tagName == .bool ? node.bool : nil
    }

    func duration(_ node: Node, key: String, positive: Bool = true) -> Duration? {
        guard case .scalar(let scalar) = node, node.tagName != .null, node.tagName != .bool else {
            error("'\(key)' must be a duration like 250ms, 2s, 1m or 1h, got \(node.describedValue)", at: node)
            return nil
        }
        do {
            let value = try DurationParser.parse(scalar.string)
            if positive, value <= .zero {
                error("'\(key)' must be longer than 0", at: node)
                return nil
            }
            return value
        } catch {
            self.error("'\(key)' must be a duration like 250ms, 2s, 1m or 1h: \(error.message)", at: node)
            return nil
        }
    }

    func size(_ node: Node, key: String, positive: Bool = true) -> Int? {
        guard case .scalar(let scalar) = node, node.tagName != .null, node.tagName != .bool else {
            error("'\(key)' must be a size like 512, 16KiB or 10MiB, got \(node.describedValue)", at: node)
            return nil
        }
        do {
            let value = try SizeParser.parse(scalar.string)
            if positive, value <= 0 {
                error("'\(key)' must be larger than 0", at: node)
                return nil
            }
            return value
        } catch {
            self.error("'\(key)' must be a size like 512, 16KiB or 10MiB: \(error.message)", at: node)
            return nil
        }
    }

    /// Enum values are read from the raw text, so `session: off` works although YAML calls `off` a boolean.
    func enumeration<Value: RawRepresentable & CaseIterable>(_ node: Node, key: String, as type: Value.Type) -> Value?
    where Value.RawValue == String {
        let allowed = Value.allCases.map(\.rawValue)
        guard case .scalar(let scalar) = node, node.tagName != .null else {
            error("'\(key)' must be one of \(allowed.joined(separator: ", ")), got \(node.kindDescription)", at: node)
            return nil
        }
        if let value = Value(rawValue: scalar.string) { return value }
        error(
            "'\(key)' must be one of \(allowed.joined(separator: ", ")), got '\(scalar.string)'"
                + Suggestion.hint(for: scalar.string, in: allowed),
            at: node)
        return nil
    }

    /// A list of strings; a single string is taken as a one-element list.
    func stringList(_ node: Node, key: String) -> [String]? {
        switch node {
        case .scalar:
            return string(node, key: key).map { [$0] }
        case .sequence(let sequence):
            var values: [String] = []
            var ok = true
            for item in sequence {
                if let text = nonEmptyString(item, key: key) { values.append(text) } else { ok = false }
            }
            return ok ? values : nil
        default:
            error("'\(key)' must be a list of strings, got \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// Runs a throwing value parser and reports its message at `node`.
    func parsed<Value>(_ node: Node, key: String,
                       _ parse: (String) throws(ValueParseError) -> Value) -> Value? {
        guard let text = string(node, key: key) else { return nil }
        do {
            return try parse(text)
        } catch {
            self.error("'\(key)': \(error.message)", at: node)
            return nil
        }
    }
}

extension Node {
    /// "a mapping", "a list", "a string", "an integer"... for type errors.
    var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch tagName {
            case .null: return "nothing (null)"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            default: return "a string"
            }
        }
    }

    /// The kind plus the text for scalars: `a string 'abc'`.
    var describedValue: String {
        if case .scalar(let scalar) = self, tagName != .null {
            return "\(kindDescription) '\(scalar.string)'"
        }
        return kindDescription
    }

    var isNull: Bool {
        if case .scalar = self { return tagName == .null }
        return false
    }
}

extension Node {
    /// The resolved tag (`Tag.name` is internal to Yams; `rawValue` is its public spelling).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
