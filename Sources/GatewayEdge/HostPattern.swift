/// A route's `match.host`: an exact name, or `*.example.com` = exactly one leading label (like nginx's
/// `server_name *.example.com` minus its multi-label reach, and like Traefik's `HostRegexp` for one label).
public struct HostPattern: Sendable, Equatable {
    private let exact: String?
    /// `.example.com` for `*.example.com`.
    private let suffix: String?

    /// `pattern` lower-cased by the config decoder.
    public init(_ pattern: String) {
        if pattern.hasPrefix("*.") {
            exact = nil
            suffix = String(pattern.dropFirst())
        } else {
            exact = pattern
            suffix = nil
        }
    }

    /// `host`: the Host header without port, lower-cased.
    public func matches(_ host: String?) -> Bool {
        guard let host else { return false }
        if let exact { return host == exact }
        guard let suffix, host.hasSuffix(suffix) else { return false }
        let label = host.utf8.dropLast(suffix.utf8.count)
        return !label.isEmpty && !label.contains(UInt8(ascii: "."))
    }
}
