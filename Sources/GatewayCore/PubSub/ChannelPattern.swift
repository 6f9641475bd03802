/// Channel patterns of a `pubsub` route (SPEC §5): `*` matches any run of characters (also none), `{user}` stands for
/// the session user. A pattern that names `{user}` never matches without a session, and the user's name is matched
/// literally (a `*` in a user name is not a wildcard).
///
/// ```swift
/// ChannelPattern.matches("user:{user}", channel: "user:alice", user: "alice")  // true
/// ChannelPattern.matches("chat:*", channel: "chat:42", user: nil)              // true
/// ```
enum ChannelPattern {
    /// Whether `channel` matches `pattern` for the session `user` (nil without a session).
    static func matches(_ pattern: String, channel: String, user: String?) -> Bool {
        guard let tokens = tokens(of: pattern, user: user) else { return false }
        return glob(tokens, Array(channel.utf8))
    }

    /// Whether any of `patterns` matches.
    static func anyMatches(_ patterns: [String], channel: String, user: String?) -> Bool {
        patterns.contains { matches($0, channel: channel, user: user) }
    }

    /// The pattern as bytes, with `-1` for a wildcard; nil when it names `{user}` and there is no user.
    static func tokens(of pattern: String, user: String?) -> [Int16]? {
        let bytes = Array(pattern.utf8)
        let placeholder = Array("{user}".utf8)
        var out: [Int16] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "{"), bytes.count - index >= placeholder.count,
                Array(bytes[index..<index + placeholder.count]) == placeholder
            {
                guard let user, !user.isEmpty else { return nil }
                for byte in user.utf8 { out.append(Int16(byte)) }
                index += placeholder.count
                continue
            }
            out.append(bytes[index] == UInt8(ascii: "*") ? -1 : Int16(bytes[index]))
            index += 1
        }
        return out
    }

    /// Classic wildcard matching with single-star backtracking: linear in practice, never exponential.
    private static func glob(_ pattern: [Int16], _ text: [UInt8]) -> Bool {
        var p = 0
        var t = 0
        var star = -1
        var resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == Int16(text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == -1 {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == -1 { p += 1 }
        return p == pattern.count
    }
}
