/// Chooses which certificate answers a TLS ClientHello: the first whose SANs match the SNI name, a `*.` wildcard
/// matching exactly one leftmost label (RFC 6125 §6.4.3, like nginx and browsers); no SNI or no match → the first
/// certificate (the default).
public struct SNIMatcher: Sendable, Equatable {
    /// DNS names per certificate, lower-cased, in configuration order.
    public let names: [[String]]

    public init(names: [[String]]) {
        self.names = names.map { $0.map { $0.lowercased() } }
    }

    /// Index of the certificate for `serverName`; 0 when nothing matches.
    public func index(for serverName: String?) -> Int {
        guard var host = serverName?.lowercased(), !host.isEmpty else { return 0 }
        if host.hasSuffix(".") { host.removeLast() }
        // Exact names win over wildcards, whatever the order.
        if let exact = names.firstIndex(where: { $0.contains(host) }) { return exact }
        if let wildcard = names.firstIndex(where: { $0.contains { Self.wildcard($0, matches: host) } }) {
            return wildcard
        }
        return 0
    }

    static func wildcard(_ pattern: String, matches host: String) -> Bool {
        guard pattern.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
        let label = host[..<dot]
        let rest = host[host.index(after: dot)...]
        return !label.isEmpty && rest == pattern.dropFirst(2) && rest.contains(".")
    }
}
