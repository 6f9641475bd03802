/// Redis key names of a history/presence channel, placed in the SAME cluster hash slot as the channel's Redis
/// pub/sub name `{key_prefix}ch:CHANNEL`, so one script can append to the stream and (S)PUBLISH on a Redis Cluster.
///
/// A name without a hash tag hashes whole, so the keys wrap it in braces: `{gw:ch:chat:1}:h` hashes exactly like
/// `gw:ch:chat:1`. A name that already has a tag keeps it by appending: `gw:ch:a{b}c:h` hashes by `b` like the name.
/// (The one case that cannot line up, a channel with `}` but no tag, still keeps its own keys in one slot.)
struct HistoryKeys: Sendable, Equatable {
    /// The stream of retained messages; entry ids are `OFFSET-0`, field `d` holds the data.
    let stream: String
    /// Hash `{epoch, offset}`: the stream's incarnation and its last offset.
    let meta: String
    /// Sorted set of presence members (score = expiry, epoch ms).
    let presence: String

    init(redisChannel: String) {
        let base = Self.hasHashTag(redisChannel) ? redisChannel : "{" + redisChannel + "}"
        stream = base + ":h"
        meta = base + ":m"
        presence = base + ":p"
    }

    /// Whether Redis Cluster hashes `name` by a tag: a `{` followed later by a `}` with at least one byte between.
    static func hasHashTag(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}"))
        else { return false }
        return close > open + 1
    }
}
