import NIOCore
import NIOWebSocket

/// Just enough of the gateway → client protocol (SPEC §5) to tell frames apart without a JSON parser: the gateway
/// always starts its objects with `{"type":"…"`, and the benchmark's messages carry `"t":<uptime ns>` in `data`.
enum GatewayFrames {
    enum Kind: Equatable {
        case message
        case subscribed
        case error
        case other
    }

    /// The `type` of a text frame's payload, from its first letter (no allocation: this runs for every delivery).
    static func kind(of payload: ByteBuffer) -> Kind {
        payload.withUnsafeReadableBytes { bytes -> Kind in
            let prefix: StaticString = #"{"type":""#
            let length = prefix.utf8CodeUnitCount
            guard bytes.count > length else { return .other }
            for index in 0..<length where bytes[index] != prefix.utf8Start[index] { return .other }
            switch bytes[length] {
            case UInt8(ascii: "m"): return .message
            case UInt8(ascii: "s"): return .subscribed
            case UInt8(ascii: "e"): return .error
            default: return .other
            }
        }
    }

    /// The digits after the first `"t":` in `payload` (the publisher's send time), without parsing the JSON.
    static func timestamp(in payload: ByteBuffer) -> UInt64? {
        payload.withUnsafeReadableBytes { bytes -> UInt64? in
            let quote = UInt8(ascii: "\""), colon = UInt8(ascii: ":"), zero = UInt8(ascii: "0")
            var index = 0
            while index + 4 < bytes.count {
                if bytes[index] == quote, bytes[index + 1] == UInt8(ascii: "t"), bytes[index + 2] == quote,
                    bytes[index + 3] == colon
                {
                    var position = index + 4
                    while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
                    var value: UInt64 = 0
                    var digits = 0
                    while position < bytes.count, bytes[position] &- zero < 10 {
                        value = value &* 10 &+ UInt64(bytes[position] &- zero)
                        position += 1
                        digits += 1
                    }
                    return digits > 0 ? value : nil
                }
                index += 1
            }
            return nil
        }
    }

    /// The status code of a close frame's payload, if it has one.
    static func closeCode(_ payload: ByteBuffer) -> UInt16? {
        payload.getInteger(at: payload.readerIndex, as: UInt16.self)
    }

    /// The pong answering a server ping (client frames are masked; the encoder applies the key).
    static func pong(answering ping: WebSocketFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: ping.unmaskedData)
    }
}
