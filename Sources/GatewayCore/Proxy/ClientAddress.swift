import NIOCore

/// The client's address as the gateway believes it: the socket peer, or — when that peer is a trusted proxy — the
/// right-most untrusted address of `X-Forwarded-For` (what nginx's `real_ip_recursive on` does).
enum ClientAddress {
    static func bytes(of address: SocketAddress?) -> [UInt8] {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default:
            return []
        }
    }

    static func text(of address: SocketAddress?) -> String {
        address?.ipAddress ?? "unknown"
    }

    /// - Parameter isTrusted: tests an address in text form against `trusted_proxies`.
    static func resolve(peer: String, peerTrusted: Bool, forwardedFor: [String], isTrusted: (String) -> Bool) -> String {
        guard peerTrusted, !forwardedFor.isEmpty else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters() }
        for hop in hops.reversed() where !hop.isEmpty {
            if !isTrusted(hop) { return hop }
        }
        return hops.first ?? peer
    }

    /// Parses an IPv4 or IPv6 literal into bytes (for trusted-proxy checks of forwarded hops).
    static func parse(_ text: String) -> [UInt8]? {
        if let address = try? SocketAddress(ipAddress: text, port: 0) { return bytes(of: address) }
        return nil
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
