import Foundation

/// What an upstream asks for with the `X-Gateway-Session` response header (SPEC §4).
public enum SessionDirective: Sendable, Equatable {
    /// `clear`: end the current session and expire the cookie.
    case clear
    /// A JSON object: issue a session holding it. `data` is the object as compact JSON (what is stored and
    /// forwarded upstream later); `user` is its `user` field when that is a non-empty string.
    case issue(data: String, user: String?)

    public static let headerName = "X-Gateway-Session"
    public static let userHeaderName = "X-Gateway-User"

    /// Parses the header value; nil when it is neither `clear` nor a JSON object (the proxy then ignores it).
    public init?(headerValue: String) {
        let trimmed = headerValue.trimmingASCIISpaces()
        if trimmed.lowercased() == "clear" {
            self = .clear
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
            let compact = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        let user = (object["user"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        self = .issue(data: String(decoding: compact, as: UTF8.self), user: user)
    }
}
