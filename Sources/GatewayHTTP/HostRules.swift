/// Validates `Host` (RFC 9110 §7.2, RFC 3986 §3.2.2) and decides which authority a request is for.
public enum HostRules {
    /// `host [":" port]` with host an IP literal in brackets or a reg-name (unreserved, percent-escapes,
    /// sub-delims). Spaces, userinfo (`@`), paths and empty values are invalid.
    public static func isValid(_ value: some StringProtocol) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return false }
        var index = 0
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            for byte in bytes[1..<close] {
                guard PathNormalizer.hexValue(byte) != nil || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
                else { return false }
            }
            index = close + 1
        } else {
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                guard isRegNameByte(bytes[index]) else { return false }
                index += 1
            }
            guard index > 0 else { return false }
        }
        guard index < bytes.count else { return true }
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        let port = bytes[(index + 1)...]
        // An empty port is allowed by RFC 3986 (`host:`); more than five digits is not a port.
        guard port.count <= 5 else { return false }
        return port.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        if PathNormalizer.isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
            UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    public enum Resolution: Equatable, Sendable {
        /// The request's own `Host` header is fine as it is.
        case keep
        /// Send this `Host` upstream (the absolute-form authority, or the listener for an HTTP/1.0 request).
        case replace(String)
        /// 400 with this detail.
        case invalid(String)
    }

    /// The authority a request is for (RFC 9112 §3.2).
    /// - Parameters:
    ///   - hostValues: every `Host` field the request carries.
    ///   - targetAuthority: the authority of an absolute-form target; it wins over `Host`.
    ///   - isHTTP10: an HTTP/1.0 request may omit `Host`; it then gets `listenerAuthority`.
    public static func resolve(
        hostValues: [String], targetAuthority: String?, isHTTP10: Bool, listenerAuthority: String
    ) -> Resolution {
        if hostValues.count > 1 { return .invalid("More than one Host header.") }
        if let targetAuthority {
            guard isValid(targetAuthority) else { return .invalid("The request target's authority is not a valid host.") }
            return hostValues.first == targetAuthority ? .keep : .replace(targetAuthority)
        }
        guard let host = hostValues.first else {
            return isHTTP10 ? .replace(listenerAuthority) : .invalid("An HTTP/1.1 request needs a Host header.")
        }
        return isValid(host) ? .keep : .invalid("The Host header is not a valid host[:port].")
    }
}
