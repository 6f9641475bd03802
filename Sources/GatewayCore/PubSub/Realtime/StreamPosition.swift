import NIOCore

/// Where a history channel's stream stands (SPEC §9): `offset` is the last message's number (consecutive per channel,
/// 0 before the first), `epoch` names the stream's incarnation and changes when it was lost (Redis flushed, keys
/// expired), which makes older offsets meaningless.
struct StreamPosition: Sendable, Equatable, CustomStringConvertible {
    var offset: UInt64
    var epoch: String

    var description: String { "\(epoch):\(offset)" }

    /// `E:N` (the SSE event id form); nil for anything else.
    init?(eventID text: Substring) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let epoch = text[..<colon]
        guard !epoch.isEmpty, epoch.utf8.count <= 64, let offset = UInt64(text[text.index(after: colon)...]) else {
            return nil
        }
        self.init(offset: offset, epoch: String(epoch))
    }

    init(offset: UInt64, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }

    /// A fresh epoch: 8 random bytes in hex. Made by the publisher (Lua has no good randomness) and used only when
    /// the store finds the stream missing.
    static func newEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A channel's history limits (from the route's `history` block).
struct HistoryLimits: Sendable, Equatable {
    var size: Int
    /// Milliseconds, renewed on every publish.
    var ttlMilliseconds: Int64
}

/// One retained message.
struct HistoryEntry: Sendable, Equatable {
    var offset: UInt64
    /// The message's `data`, one JSON value as raw text.
    var data: ByteBuffer
}

/// What a history read returned: the stream's position at the moment of the read, and the entries asked for
/// (ascending offsets).
struct HistoryRead: Sendable, Equatable {
    var position: StreamPosition
    var entries: [HistoryEntry]
}

/// Which entries a history read returns.
enum HistoryQuery: Sendable, Equatable {
    /// Every retained entry with an offset above this one (recovery).
    case after(UInt64)
    /// The newest `n` entries (the `history` frame and admin endpoint).
    case last(Int)
    /// None: only the position.
    case position
}

/// A presence entry: who is subscribed (SPEC §9 `presence`).
struct PresenceMember: Sendable, Hashable {
    var user: String?
    var client: String

    /// `{"user":"alice","client":"id"}` (the Redis set member and the admin/frame element).
    var json: String {
        "{\"user\":\(user.map(JSONText.quote) ?? "null"),\"client\":\(JSONText.quote(client))}"
    }
}
