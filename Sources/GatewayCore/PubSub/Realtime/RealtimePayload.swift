import NIOCore

/// What arrives on a channel's Redis pub/sub name (SPEC §5/§9), parsed once per message for the whole process:
/// - `{"data":ANY}` (raw backends, plain channels) → a message without position;
/// - `{"offset":N,"epoch":"E","data":ANY}` (the history publish script) → a message with its stream position;
/// - `{"presence":"join"|"leave","user":…,"client":"…"}` (an instance's presence change) → a presence event;
/// - any other JSON value → taken whole as the data (as before).
enum RealtimePayload: Equatable {
    case message(data: ByteBuffer, position: StreamPosition?)
    case presence(kind: PresenceEvent, member: PresenceMember)

    enum PresenceEvent: String, Equatable, Sendable {
        case join
        case leave
    }

    /// nil when `payload` is not one JSON value in UTF-8 (dropped and counted).
    static func parse(_ payload: ByteBuffer) -> RealtimePayload? {
        guard let whole = PubSubData.singleValue(payload) else { return nil }
        struct Fields {
            var data: Range<Int>?
            var offset: UInt64?
            var epoch: String?
            var presence: String?
            var user: String?
            var userIsNull = false
            var client: String?
        }
        let fields: Fields? = whole.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            guard scanner.peek == UInt8(ascii: "{") else { return nil }
            scanner.index += 1
            scanner.skipWhitespace()
            guard scanner.peek != UInt8(ascii: "}") else { return nil }
            var fields = Fields()
            do throws(JSONScanner.Failure) {
                while true {
                    scanner.skipWhitespace()
                    let key = try scanner.readString()
                    try scanner.expect(UInt8(ascii: ":"))
                    scanner.skipWhitespace()
                    let isString = scanner.peek == UInt8(ascii: "\"")
                    switch key {
                    case "epoch" where isString: fields.epoch = try scanner.readString()
                    case "presence" where isString: fields.presence = try scanner.readString()
                    case "user" where isString: fields.user = try scanner.readString()
                    case "client" where isString: fields.client = try scanner.readString()
                    default:
                        let range = try scanner.skipValue()
                        switch key {
                        case "data": fields.data = range
                        case "offset": fields.offset = UInt64(decimal: bytes, range)
                        case "user": fields.userIsNull = range.count == 4 && bytes[range.lowerBound] == UInt8(ascii: "n")
                        default: break
                        }
                    }
                    scanner.skipWhitespace()
                    guard let next = scanner.peek else { return nil }
                    scanner.index += 1
                    if next == UInt8(ascii: "}") { return fields }
                    guard next == UInt8(ascii: ",") else { return nil }
                }
            } catch {
                return nil
            }
        }
        guard let fields else { return .message(data: whole, position: nil) }
        if fields.data == nil, let kind = fields.presence.flatMap(PresenceEvent.init(rawValue:)), let client = fields.client {
            return .presence(kind: kind, member: PresenceMember(user: fields.user, client: client))
        }
        guard let range = fields.data else { return .message(data: whole, position: nil) }
        let data = whole.getSlice(at: whole.readerIndex + range.lowerBound, length: range.count)!
        if let offset = fields.offset, let epoch = fields.epoch {
            return .message(data: data, position: StreamPosition(offset: offset, epoch: epoch))
        }
        return .message(data: data, position: nil)
    }

    /// `{"presence":"join","user":…,"client":"…"}`.
    static func presencePayload(_ kind: PresenceEvent, _ member: PresenceMember) -> String {
        "{\"presence\":\"\(kind.rawValue)\",\"user\":\(member.user.map(JSONText.quote) ?? "null"),\"client\":\(JSONText.quote(member.client))}"
    }
}

extension UInt64 {
    /// A plain non-negative decimal integer in `bytes[range]` (no sign, fraction or exponent).
    init?(decimal bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard !range.isEmpty, range.count <= 20 else { return nil }
        var value: UInt64 = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        self = value
    }
}
