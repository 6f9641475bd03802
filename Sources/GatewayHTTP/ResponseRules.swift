/// Rules for what goes back to the client.
public enum ResponseRules {
    /// Whether an upstream status code can be relayed (RFC 9110 §15: three digits, 1xx–5xx). Anything else
    /// (`099`, `999`) is a broken upstream: 502.
    public static func isValidStatus(_ code: Int) -> Bool {
        (100...599).contains(code)
    }

    /// Whether an upstream informational response is passed on (RFC 9110 §15.2: a proxy forwards 1xx to HTTP/1.1
    /// clients). `100 Continue` is not: the gateway answers `Expect: 100-continue` itself, and `101` has its own
    /// rules (only for a WebSocket upgrade the route allows).
    public static func forwardsInformational(_ code: Int, clientIsHTTP11: Bool) -> Bool {
        clientIsHTTP11 && (102...199).contains(code)
    }

    /// The reason phrase to send with a forwarded informational status (the decoder does not keep the upstream's).
    public static func informationalReason(_ code: Int) -> String {
        switch code {
        case 102: return "Processing"
        case 103: return "Early Hints"
        case 104: return "Upload Resumption Supported"
        default: return "Informational"
        }
    }

    public enum Persistence: Equatable, Sendable {
        /// Keep the connection; `announce` = answer `Connection: keep-alive` (HTTP/1.0, where it is not the default).
        case keepAlive(announce: Bool)
        case close
    }

    /// Whether the client connection persists after this response (RFC 9112 §9.3).
    /// - Parameters:
    ///   - isHTTP10: the request was HTTP/1.0.
    ///   - clientKeepAlive: the request asked to persist (1.1 without `close`, 1.0 with `keep-alive`).
    ///   - lengthDelimited: the response body ends without closing (Content-Length, or no body). An HTTP/1.0
    ///     client cannot take chunked encoding, so anything else ends by closing.
    public static func persistence(isHTTP10: Bool, clientKeepAlive: Bool, gatewayCloses: Bool, lengthDelimited: Bool)
        -> Persistence
    {
        guard clientKeepAlive, !gatewayCloses else { return .close }
        if isHTTP10 { return lengthDelimited ? .keepAlive(announce: true) : .close }
        return .keepAlive(announce: false)
    }
}
