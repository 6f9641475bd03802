extension ListenAddress {
    /// Parses `host:port`, `[v6]:port` or `:port` (all interfaces, host `0.0.0.0`). Port 0 lets the
    /// OS pick (useful in tests).
    public static func parse(_ text: String) throws(ValueParseError) -> ListenAddress {
        let trimmed = text.trimmingSpaces()
        let host: String
        let portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw ValueParseError("'\(text)': missing ']' after the IPv6 address")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let after = trimmed[trimmed.index(after: close)...]
            guard after.hasPrefix(":") else { throw ValueParseError("'\(text)': expected ':PORT' after ']'") }
            portText = after.dropFirst()
            guard IPAddressParser.parse(host)?.count == 16 else {
                throw ValueParseError("'\(host)' is not an IPv6 address")
            }
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw ValueParseError("'\(text)' needs a port: write HOST:PORT, [IPV6]:PORT or :PORT")
            }
            let hostPart = trimmed[..<colon]
            if hostPart.contains(":") {
                throw ValueParseError("'\(text)': put IPv6 addresses in brackets, e.g. [::1]:8080")
            }
            host = hostPart.isEmpty ? "0.0.0.0" : String(hostPart)
            portText = trimmed[trimmed.index(after: colon)...]
            guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }) else {
                throw ValueParseError("'\(host)' is not a host name or address")
            }
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isNumber), let port = Int(portText), (0...65535).contains(port) else {
            throw ValueParseError("'\(text)': port must be a number 0...65535")
        }
        return ListenAddress(host: host, port: port)
    }
}
