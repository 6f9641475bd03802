import NIOCore

/// A client → gateway pub/sub message (SPEC §5), parsed from one text message.
enum PubSubRequest: Equatable {
    case subscribe(channel: String)
    case unsubscribe(channel: String)
    /// `data` holds the exact JSON text of the message's `data` value.
    case publish(channel: String, data: ByteBuffer)

    /// Why a text message is not a valid request; rendered as an `error` frame with code `bad_request`.
    enum Problem: Error, Equatable {
        case notJSON
        case notAnObject
        case missingType
        case unknownType(String)
        case missingChannel
        case invalidChannel
        case missingData

        var message: String {
            switch self {
            case .notJSON: return "The message is not valid JSON."
            case .notAnObject: return "The message must be a JSON object."
            case .missingType: return "The message needs a string \"type\"."
            case .unknownType(let type): return "Unknown message type \"\(type)\" (use subscribe, unsubscribe or publish)."
            case .missingChannel: return "The message needs a string \"channel\"."
            case .invalidChannel: return PubSubChannelName.rule
            case .missingData: return "A publish message needs \"data\"."
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
            let known = ["subscribe", "unsubscribe", "publish"]
            guard known.contains(type) else { return .failure(.unknownType(type)) }
            guard let channel else { return .failure(.missingChannel) }
            guard PubSubChannelName.isValid(channel) else { return .failure(.invalidChannel) }
            switch type {
            case "subscribe": return .success(.subscribe(channel: channel))
            case "unsubscribe": return .success(.unsubscribe(channel: channel))
            default:
                guard let data else { return .failure(.missingData) }
                return .success(
                    .publish(channel: channel, data: message.getSlice(at: message.readerIndex + data.lowerBound, length: data.count)!))
            }
        }
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
