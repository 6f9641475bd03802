/// Decoded settings plus where their parts were written, kept until the cross-file checks
/// (``SemanticValidator``) have run.
struct UpstreamDraft {
    var settings: UpstreamSettings
    var nameLocation: SourceLocation
}

struct RouteDraft {
    var settings: RouteSettings
    var nameLocation: SourceLocation
    var upstreamLocation: SourceLocation?
    var sessionLocation: SourceLocation?
    var websocketLocation: SourceLocation?
    var pubsubLocation: SourceLocation?
    var staticLocation: SourceLocation?
    var authLocation: SourceLocation?
    /// Positions of rate-limit `key: jwt:CLAIM` values.
    var jwtKeyLocations: [SourceLocation] = []
    /// Positions of rate-limit `key: session_user` values.
    var sessionUserKeyLocations: [SourceLocation] = []
    /// Position of the first pub/sub pattern using `{user}`.
    var userPatternLocation: SourceLocation?
}

/// Names (routes, upstreams, limits) appear in metrics labels and logs: keep them simple.
enum NameRules {
    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    static let message = "may contain only letters, digits, '-', '_' and '.'"
}
