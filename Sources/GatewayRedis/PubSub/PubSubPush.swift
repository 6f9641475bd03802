import NIOCore

/// A pub/sub push as sent by Redis in subscribed mode (RESP2 arrays).
enum PubSubPush: Equatable {
    case message(channel: String, payload: ByteBuffer)
    case patternMessage(pattern: String, channel: String, payload: ByteBuffer)
    /// `subscribe`/`unsubscribe`/`psubscribe`/`punsubscribe` confirmations.
    case confirmation(kind: String, name: String?, count: Int)

    /// `nil` for anything that is not a push (e.g. the `pong` reply of PING, which belongs to a command).
    init?(_ value: RESPValue) {
        guard case .array(let items) = value, let kind = items.first?.string else { return nil }
        switch kind {
        case "message" where items.count == 3, "smessage" where items.count == 3:
            guard let channel = items[1].string, case .bulkString(let payload) = items[2] else { return nil }
            self = .message(channel: channel, payload: payload)
        case "pmessage" where items.count == 4:
            guard let pattern = items[1].string, let channel = items[2].string,
                  case .bulkString(let payload) = items[3] else { return nil }
            self = .patternMessage(pattern: pattern, channel: channel, payload: payload)
        case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe":
            guard items.count == 3, let count = items[2].int else { return nil }
            self = .confirmation(kind: kind, name: items[1].string, count: count)
        default:
            return nil
        }
    }
}
