/// A Lua script run with `RedisClient.evaluate`. The SHA-1 is computed once here, so every call tries
/// `EVALSHA` first and only falls back to `EVAL` (which also loads the script) when Redis answers `NOSCRIPT`.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lower-case hex SHA-1 of `source`, as used by EVALSHA / SCRIPT LOAD.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(source.utf8)
    }
}
