/// A request target split into its parts (RFC 9112 §3.2), with any `#fragment` dropped (a fragment is never
/// part of what a server receives; a client that sends one gets it stripped rather than forwarded).
public struct RequestTarget: Equatable, Sendable {
    public enum Form: Equatable, Sendable {
        /// `/path?query`, the usual form.
        case origin
        /// `http://authority/path?query` (RFC 9112 §3.2.2): routed on the path; the authority replaces `Host`.
        case absolute
        /// `host:port`, only meaningful for `CONNECT`, which the gateway does not do.
        case authority
        /// `*`, only meaningful for `OPTIONS`.
        case asterisk
    }

    public var form: Form
    /// The raw (not yet normalised) path; `/` for an absolute-form target without one, empty for the authority
    /// and asterisk forms.
    public var path: String
    /// The query without `?`, untouched.
    public var query: String?
    /// The authority of an absolute-form or authority-form target.
    public var authority: String?

    public init(form: Form, path: String, query: String? = nil, authority: String? = nil) {
        self.form = form
        self.path = path
        self.query = query
        self.authority = authority
    }

    /// Parses a request target; throws a 400 detail for anything that is none of the four forms.
    public static func parse(_ target: String) throws(RequestTargetError) -> RequestTarget {
        var utf8 = Substring(target).utf8
        if let hash = utf8.firstIndex(of: UInt8(ascii: "#")) { utf8 = utf8[..<hash] }
        guard let first = utf8.first else { throw .empty }
        if first == UInt8(ascii: "/") {
            let (path, query) = splitQuery(Substring(utf8))
            return RequestTarget(form: .origin, path: path, query: query)
        }
        let text = Substring(utf8)
        if text == "*" { return RequestTarget(form: .asterisk, path: "") }
        if let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://"),
            text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        {
            let scheme = text[..<colon].lowercased()
            guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(String(scheme)) }
            let rest = text[text.index(colon, offsetBy: 3)...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            let authority = String(rest[..<authorityEnd])
            guard !authority.isEmpty else { throw .malformed }
            var (path, query) = splitQuery(rest[authorityEnd...])
            if path.isEmpty { path = "/" }
            return RequestTarget(form: .absolute, path: path, query: query, authority: authority)
        }
        if !text.contains("/"), !text.contains("?"), text.contains(":") {
            return RequestTarget(form: .authority, path: "", authority: String(text))
        }
        throw .malformed
    }

    private static func splitQuery(_ text: Substring) -> (String, String?) {
        guard let mark = text.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (String(text), nil) }
        return (String(text[..<mark]), String(text[text.index(after: mark)...]))
    }
}

public enum RequestTargetError: Error, Equatable, Sendable {
    case empty
    case malformed
    case unsupportedScheme(String)

    public var detail: String {
        switch self {
        case .empty: return "The request target is empty."
        case .malformed: return "The request target is not a valid origin-form or absolute-form URI."
        case .unsupportedScheme(let scheme): return "The request target's scheme '\(scheme)' is not http or https."
        }
    }
}
