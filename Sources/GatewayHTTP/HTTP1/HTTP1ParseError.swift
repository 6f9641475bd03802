/// Why a message head or a chunked body was refused, with the status the gateway answers a client with.
///
/// Every error is final for the connection: after a framing or syntax error the byte stream can no longer be
/// trusted to be split into messages the same way by every hop, so the caller answers (or fails the upstream
/// attempt) and closes.
public struct HTTP1ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Int, Equatable, Sendable {
        /// 400: bad syntax or an ambiguous framing (a request-smuggling shape).
        case badRequest = 400
        /// 414: the request target is longer than `max_uri_bytes`.
        case uriTooLong = 414
        /// 431: the head (or the trailer section) is larger than `max_header_bytes`, or has too many fields.
        case headerFieldsTooLarge = 431
        /// 501: a transfer coding other than `chunked`.
        case notImplemented = 501
        /// 505: an HTTP version other than 1.0 and 1.1 in the request line.
        case versionNotSupported = 505
    }

    public var kind: Kind
    /// A short, client-safe sentence (it goes into the problem `detail`).
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// The HTTP status for a client-side error.
    public var status: Int { kind.rawValue }

    public var description: String { "\(kind.rawValue) \(reason)" }

    static func bad(_ reason: String) -> HTTP1ParseError { HTTP1ParseError(.badRequest, reason) }
}
