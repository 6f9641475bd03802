/// The HTTP version of a head. Only 1.0 and 1.1 are parsed; anything else is refused.
public enum HTTP1Version: Sendable, Equatable {
    case http10
    case http11

    public var minor: Int { self == .http10 ? 0 : 1 }
}

/// Request methods the gateway treats specially, and all others by their bytes.
public enum HTTP1Method: Sendable, Equatable {
    case get, head, post, put, delete, options, patch, trace, connect
    case other

    static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTP1Method {
        // Methods are case-sensitive (RFC 9110 §9.1): `get` is not GET.
        @inline(__always) func eq(_ name: StaticString) -> Bool {
            guard end - start == name.utf8CodeUnitCount else { return false }
            let expected = name.utf8Start
            for offset in 0..<(end - start) where bytes[start + offset] != expected[offset] { return false }
            return true
        }
        switch end - start {
        case 3: return eq("GET") ? .get : eq("PUT") ? .put : .other
        case 4: return eq("HEAD") ? .head : eq("POST") ? .post : .other
        case 5: return eq("PATCH") ? .patch : eq("TRACE") ? .trace : .other
        case 6: return eq("DELETE") ? .delete : .other
        case 7: return eq("OPTIONS") ? .options : eq("CONNECT") ? .connect : .other
        default: return .other
        }
    }
}

/// How a message body is delimited (RFC 9112 §6.3).
public enum HTTP1BodyFraming: Sendable, Equatable {
    /// No body (a request without Content-Length or Transfer-Encoding, a 204/304/1xx response, a reply to HEAD).
    case noBody
    case contentLength(Int)
    case chunked
    /// A response without a length: the body ends when the upstream closes (the connection is not reusable).
    case untilClose
}

/// The shape of a request target (RFC 9112 §3.2).
public enum HTTP1TargetForm: Sendable, Equatable {
    /// `/path?query`
    case origin
    /// `http://host/path?query` (proxies must accept it, RFC 9112 §3.2.2).
    case absolute
    /// `host:port`, CONNECT only.
    case authority
    /// `*`, OPTIONS only.
    case asterisk
}
