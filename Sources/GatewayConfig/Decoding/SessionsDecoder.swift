import Yams

/// `sessions:` — cookie name, secret variable, timeouts, `Secure` flag.
enum SessionsDecoder {
    static let keys = ["cookie", "secret_env", "idle_timeout", "absolute_timeout", "secure"]

    /// `sessions: true` means all defaults, `sessions: false` means no sessions.
    static func decode(_ node: Node, context: DecodeContext) -> SessionSettings? {
        var sessions = SessionSettings()
        sessions.location = context.location(of: node)
        if let flag = context.optionalBool(node) { return flag ? sessions : nil }
        guard let map = MappingReader(node, what: "sessions", allowed: keys, context: context) else { return sessions }
        if let value = map["cookie"], let name = context.nonEmptyString(value, key: "cookie") {
            if name.allSatisfy(\.isCookieTokenCharacter) {
                sessions.cookie = name
            } else {
                context.error("'cookie': '\(name)' is not a valid cookie name (letters, digits, '-', '_', '.')", at: value)
            }
        }
        if let value = map["secret_env"], let name = context.nonEmptyString(value, key: "secret_env") {
            if name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                sessions.secretEnv = name
            } else {
                context.error(
                    "'secret_env' names an environment variable (e.g. GATEWAY_SESSION_SECRET), not the secret itself",
                    at: value)
            }
        }
        if let value = map["idle_timeout"], let duration = context.duration(value, key: "idle_timeout") {
            sessions.idleTimeout = duration
        }
        if let value = map["absolute_timeout"], let duration = context.duration(value, key: "absolute_timeout") {
            sessions.absoluteTimeout = duration
        }
        if let value = map["secure"], let flag = context.bool(value, key: "secure") {
            sessions.secure = flag
        }
        return sessions
    }
}

extension Character {
    /// RFC 6265 cookie-name characters we accept (a conservative subset of `token`).
    var isCookieTokenCharacter: Bool {
        isASCII && (isLetter || isNumber || self == "-" || self == "_" || self == ".")
    }

    /// RFC 9110 `tchar`, for method and header names.
    var isHTTPTokenCharacter: Bool {
        isASCII && (isLetter || isNumber || "!#$%&'*+-.^_`|~".contains(self))
    }
}
