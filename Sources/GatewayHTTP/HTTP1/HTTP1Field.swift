/// One field line of a parsed head, as offsets into the head's bytes: no `String` is made for it unless asked.
public struct HTTP1Field: Sendable, Equatable {
    /// The field name's start and end offsets in the head buffer.
    public var nameStart: Int32
    public var nameEnd: Int32
    /// The value without leading and trailing whitespace.
    public var valueStart: Int32
    public var valueEnd: Int32
    /// The name, when it is one the gateway acts on; `.other` otherwise.
    public var known: HTTP1KnownField

    public var nameRange: Range<Int> { Int(nameStart)..<Int(nameEnd) }
    public var valueRange: Range<Int> { Int(valueStart)..<Int(valueEnd) }
}

/// Field names the gateway (or a proxy in general) acts on, recognised once while parsing so later phases compare a
/// byte-sized enum instead of strings.
public enum HTTP1KnownField: UInt8, Sendable, Equatable {
    case other
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case trailer
    case upgrade
    case expect
    case xForwardedFor
    case xForwardedProto
    case xForwardedHost
    case via
    case xRequestID
    case cookie
    case setCookie
    case contentType
    case contentEncoding
    case acceptEncoding
    case proxyAuthenticate
    case proxyAuthorization
    case xGatewayUser
    case xGatewaySession

    /// Hop-by-hop fields (RFC 9110 §7.6.1) and the legacy `Proxy-Connection`: they describe one connection and are
    /// never forwarded as they are.
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade:
            return true
        default:
            return false
        }
    }

    /// Recognises the name in `bytes[start..<end]` (any case).
    static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTP1KnownField {
        @inline(__always) func eq(_ name: StaticString) -> Bool {
            HTTP1Bytes.equalsIgnoringCase(bytes, start, end, name)
        }
        switch end - start {
        case 2: return eq("te") ? .te : .other
        case 3: return eq("via") ? .via : .other
        case 4: return eq("host") ? .host : .other
        case 6:
            if eq("cookie") { return .cookie }
            if eq("expect") { return .expect }
            return .other
        case 7:
            if eq("upgrade") { return .upgrade }
            if eq("trailer") { return .trailer }
            return .other
        case 10:
            if eq("connection") { return .connection }
            if eq("keep-alive") { return .keepAlive }
            if eq("set-cookie") { return .setCookie }
            return .other
        case 12:
            if eq("x-request-id") { return .xRequestID }
            if eq("content-type") { return .contentType }
            return .other
        case 14:
            if eq("content-length") { return .contentLength }
            if eq("x-gateway-user") { return .xGatewayUser }
            return .other
        case 15:
            if eq("x-forwarded-for") { return .xForwardedFor }
            if eq("accept-encoding") { return .acceptEncoding }
            return .other
        case 16:
            if eq("proxy-connection") { return .proxyConnection }
            if eq("x-forwarded-host") { return .xForwardedHost }
            if eq("content-encoding") { return .contentEncoding }
            return .other
        case 17:
            if eq("transfer-encoding") { return .transferEncoding }
            if eq("x-forwarded-proto") { return .xForwardedProto }
            if eq("x-gateway-session") { return .xGatewaySession }
            return .other
        case 18: return eq("proxy-authenticate") ? .proxyAuthenticate : .other
        case 19: return eq("proxy-authorization") ? .proxyAuthorization : .other
        default: return .other
        }
    }
}
