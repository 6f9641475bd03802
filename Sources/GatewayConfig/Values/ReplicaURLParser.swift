/// Replica addresses: `http://host:port` or `https://host:port` with an optional trailing `/` and nothing else (no
/// path, no user info). `https://` replicas are spoken to over TLS (HTTP/1.1).
public enum ReplicaURLParser {
    /// `url` is normalized to `http://host:port` (no trailing slash); weight is 1.
    public static func parse(_ text: String) throws(ValueParseError) -> ReplicaSettings {
        let trimmed = text.trimmingSpaces()
        let lower = trimmed.lowercased()
        let tls = lower.hasPrefix("https://")
        guard tls || lower.hasPrefix("http://") else {
            throw ValueParseError("'\(text)' must look like http://host:port or https://host:port")
        }
        let scheme = tls ? "https://" : "http://"
        var authority = trimmed.dropFirst(scheme.count)
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        if authority.contains("/") || authority.contains("?") || authority.contains("#") {
            throw ValueParseError("'\(text)': a replica URL cannot have a path; write http://host:port")
        }
        if authority.contains("@") {
            throw ValueParseError("'\(text)': user info is not supported in replica URLs")
        }
        let address: ListenAddress
        do {
            address = try ListenAddress.parse(String(authority))
        } catch {
            throw ValueParseError("'\(text)' must look like http://host:port (\(error.message))")
        }
        guard authority.first != ":" else { throw ValueParseError("'\(text)': missing host") }
        guard address.port > 0 else { throw ValueParseError("'\(text)': port must be 1...65535") }
        return ReplicaSettings(url: scheme + authority, host: address.host, port: address.port, tls: tls)
    }
}
