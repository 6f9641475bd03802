import NIOCore

/// A client → gateway pub/sub message (SPEC §5), parsed from one text message.
enum PubSubRequest: Equatable {
    case subscribe(channel: String)
    case unsubscribe(channel: String)
    /// `data` holds the exact JSON text of the message's `data` value.
    case publish(channel: String, data: ByteBuffer)
    /// `subscribe` with `"since":{"offset":N,"epoch":"E"}` (SPEC §9): resume after offset N.
    case recover(channel: String, since: StreamPosition)
    /// `{"type":"history","channel":…,"limit":N}`: the newest N retained messages (limit defaults to all retained).
    case history(channel: String, limit: Int?)
    /// `{"type":"presence","channel":…}`.
    case presence(channel: String)

    /// Why a text message is not a valid request; rendered as an `error` frame with code `bad_request`.
    enum Problem: Error, Equatable {
        case notJSON
        case notAnObject
        case missingType
        case unknownType(String)
        case missingChannel
        case invalidChannel
        case missingData
        case invalidSince
        case invalidLimit

        var message: String {
            switch self {
            case .notJSON: return "The message is not valid JSON."
            case .notAnObject: return "The message must be a JSON object."
            case .missingType: return "The message needs a string \"type\"."
            case .unknownType(let type):
                return "Unknown message type \"\(type)\" (use subscribe, unsubscribe, publish, history or presence)."
            case .missingChannel: return "The message needs a string \"channel\"."
            case .invalidChannel: return PubSubChannelName.rule
            case .missingData: return "A publish message needs \"data\"."
            case .invalidSince: return "\"since\" must be {\"offset\": N, \"epoch\": \"E\"} with N a non-negative integer."
            case .invalidLimit: return "\"limit\" must be a non-negative integer."
            }
        }
    }

    /// Parses one complete text message (already checked to be UTF-8).
    static func parse(_ message: ByteBuffer) -> Result<PubSubRequest, Problem> {
        message.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            var type: String?
            var channel: String?
            var data: Range<Int>?
            var since: Range<Int>?
            var limit: Range<Int>?
            do throws(JSONScanner.Failure) {
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: "{") else {
                    // Tell "valid JSON but not an object" from garbage.
                    _ = try scanner.skipValue()
                    return .failure(.notAnObject)
                }
                try scanner.expect(UInt8(ascii: "{"))
                scanner.skipWhitespace()
                if scanner.peek == UInt8(ascii: "}") {
                    scanner.index += 1
                } else {
                    while true {
                        let key = try scanner.readString()
                        try scanner.expect(UInt8(ascii: ":"))
                        scanner.skipWhitespace()
                        switch key {
                        case "type" where scanner.peek == UInt8(ascii: "\""):
                            type = try scanner.readString()
                        case "channel" where scanner.peek == UInt8(ascii: "\""):
                            channel = try scanner.readString()
                        case "data":
                            data = try scanner.skipValue()
                        case "since":
                            since = try scanner.skipValue()
                        case "limit":
                            limit = try scanner.skipValue()
                        default:
                            _ = try scanner.skipValue()
                        }
                        scanner.skipWhitespace()
                        guard let next = scanner.peek else { throw JSONScanner.Failure(offset: scanner.index) }
                        scanner.index += 1
                        if next == UInt8(ascii: "}") { break }
                        guard next == UInt8(ascii: ",") else { throw JSONScanner.Failure(offset: scanner.index) }
                    }
                }
                scanner.skipWhitespace()
                guard scanner.atEnd else { return .failure(.notJSON) }
            } catch {
                return .failure(.notJSON)
            }
            guard let type else { return .failure(.missingType) }
            let known = ["subscribe", "unsubscribe", "publish", "history", "presence"]
            guard known.contains(type) else { return .failure(.unknownType(type)) }
            guard let channel else { return .failure(.missingChannel) }
            guard PubSubChannelName.isValid(channel) else { return .failure(.invalidChannel) }
            switch type {
            case "subscribe":
                guard let since else { return .success(.subscribe(channel: channel)) }
                guard let position = Self.position(bytes, since) else { return .failure(.invalidSince) }
                return .success(.recover(channel: channel, since: position))
            case "history":
                guard let limit else { return .success(.history(channel: channel, limit: nil)) }
                guard let value = UInt64(decimal: bytes, limit) else { return .failure(.invalidLimit) }
                return .success(.history(channel: channel, limit: Int(clamping: value)))
            case "presence": return .success(.presence(channel: channel))
            case "unsubscribe": return .success(.unsubscribe(channel: channel))
            default:
                guard let data else { return .failure(.missingData) }
                return .success(
                    .publish(channel: channel, data: message.getSlice(at: message.readerIndex + data.lowerBound, length: data.count)!))
            }
        }
    }
}

extension PubSubRequest {
    /// `{"offset":N,"epoch":"E"}` at `range` of `bytes`.
    fileprivate static func position(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> StreamPosition? {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        var scanner = JSONScanner(slice)
        var offset: UInt64?
        var epoch: String?
        guard scanner.peek == UInt8(ascii: "{") else { return nil }
        scanner.index += 1
        do throws(JSONScanner.Failure) {
            while true {
                scanner.skipWhitespace()
                let key = try scanner.readString()
                try scanner.expect(UInt8(ascii: ":"))
                scanner.skipWhitespace()
                if key == "epoch", scanner.peek == UInt8(ascii: "\"") {
                    epoch = try scanner.readString()
                } else {
                    let value = try scanner.skipValue()
                    if key == "offset" { offset = UInt64(decimal: slice, value) }
                }
                scanner.skipWhitespace()
                guard let next = scanner.peek else { return nil }
                scanner.index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { return nil }
            }
        } catch {
            return nil
        }
        guard let offset, let epoch, epoch.utf8.count <= 64 else { return nil }
        return StreamPosition(offset: offset, epoch: epoch)
    }
}

/// What a channel name may be: 1–256 bytes, no control characters (names travel in Redis channel names and URLs).
enum PubSubChannelName {
    static let maxBytes = 256
    static let rule = "A channel name is 1–256 bytes without control characters."

    static func isValid(_ channel: String) -> Bool {
        let count = channel.utf8.count
        guard count > 0, count <= maxBytes else { return false }
        return !channel.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}

/// One JSON value as raw text (the admin `POST /publish` body, the `data` of a Redis message).
enum PubSubData {
    /// The exact bytes of the single JSON value in `buffer` (surrounding whitespace trimmed), or nil when `buffer` is
    /// not exactly one JSON value in valid UTF-8.
    static func singleValue(_ buffer: ByteBuffer) -> ByteBuffer? {
        guard String(validating: buffer.readableBytesView, as: UTF8.self) != nil else { return nil }
        let range: Range<Int>? = buffer.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            guard let range = try? scanner.skipValue() else { return nil }
            scanner.skipWhitespace()
            return scanner.atEnd ? range : nil
        }
        guard let range else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count)
    }

    /// The `data` of a message published through Redis: `{"data":ANY}` (SPEC §5). A payload that is valid JSON but
    /// not such an object is taken whole as the data; anything else is nil (dropped).
    static func fromRedisPayload(_ payload: ByteBuffer) -> ByteBuffer? {
        guard let whole = singleValue(payload) else { return nil }
        let range: Range<Int>? = whole.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            guard scanner.peek == UInt8(ascii: "{") else { return nil }
            scanner.index += 1
            scanner.skipWhitespace()
            guard scanner.peek != UInt8(ascii: "}") else { return nil }
            var found: Range<Int>?
            while true {
                guard let key = try? scanner.readString(), (try? scanner.expect(UInt8(ascii: ":"))) != nil,
                    let value = try? scanner.skipValue()
                else { return nil }
                if key == "data" { found = value }
                scanner.skipWhitespace()
                guard let next = scanner.peek else { return nil }
                scanner.index += 1
                if next == UInt8(ascii: "}") { return found }
            }
        }
        guard let range else { return whole }
        return whole.getSlice(at: whole.readerIndex + range.lowerBound, length: range.count)
    }
}
