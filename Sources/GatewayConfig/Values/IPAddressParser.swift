#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// IPv4 / IPv6 literals to network-order bytes, via `inet_pton` (so every textual form the C
/// library accepts works: `::1`, `fe80::1`, `::ffff:10.0.0.1`).
public enum IPAddressParser {
    /// 4 bytes for IPv4, 16 for IPv6, nil when `text` is not an address literal.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

extension CIDRBlock {
    /// Parses `10.0.0.0/8`, `::1/128`, or a bare address (= `/32` or `/128`).
    ///
    /// Host bits past the prefix are cleared (`10.1.2.3/8` → `10.0.0.0/8`), as nginx's
    /// `set_real_ip_from` does.
    public static func parse(_ text: String) throws(ValueParseError) -> CIDRBlock {
        let trimmed = text.trimmingSpaces()
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddressParser.parse(String(parts[0])) else {
            throw ValueParseError("'\(text)' is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1/128)")
        }
        let maxLength = address.count * 8
        var length = maxLength
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maxLength).contains(parsed), parts[1].allSatisfy(\.isNumber) else {
                throw ValueParseError("'\(text)': prefix length must be 0...\(maxLength)")
            }
            length = parsed
        }
        var masked = address
        for index in 0..<masked.count {
            let bitsKept = max(0, min(8, length - index * 8))
            masked[index] &= bitsKept == 8 ? 0xff : (bitsKept == 0 ? 0 : ~(0xff >> UInt8(bitsKept)))
        }
        return CIDRBlock(address: masked, prefixLength: length)
    }
}
