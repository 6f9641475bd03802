import NIOCore

/// Gateway → client frames, as complete RFC 6455 frames (server frames are never masked, so the bytes of a
/// `message` frame are the same for every subscriber: the hub builds each one once and every connection writes the
/// same `ByteBuffer`). The pub/sub pipeline therefore has no `WebSocketFrameEncoder`.
enum PubSubFrames {
    /// Room reserved in front of a payload for the largest frame header (2 + 8 length bytes).
    private static let headerRoom = 10

    /// `{"type":"message","channel":"…","data":…}` as one text frame.
    static func message(channel: String, data: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let quoted = JSONText.quote(channel)
        var data = data
        return textFrame(capacity: 40 + quoted.utf8.count + data.readableBytes, allocator: allocator) { buffer in
            buffer.writeStaticString("{\"type\":\"message\",\"channel\":")
            buffer.writeString(quoted)
            buffer.writeStaticString(",\"data\":")
            buffer.writeBuffer(&data)
            buffer.writeStaticString("}")
        }
    }

    /// `{"type":"subscribed"|"unsubscribed","channel":"…"}`.
    static func confirmation(_ type: String, channel: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let text = "{\"type\":\(JSONText.quote(type)),\"channel\":\(JSONText.quote(channel))}"
        return textFrame(capacity: text.utf8.count, allocator: allocator) { $0.writeString(text) }
    }

    /// `{"type":"error","code":"…","message":"…"}` (+ `channel` when the error concerns one).
    static func error(code: String, message: String, channel: String?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = "{\"type\":\"error\",\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))"
        if let channel { text += ",\"channel\":\(JSONText.quote(channel))" }
        text += "}"
        return textFrame(capacity: text.utf8.count, allocator: allocator) { $0.writeString(text) }
    }

    /// A close frame with `code` (and a short reason).
    static func close(code: UInt16, reason: String = "", allocator: ByteBufferAllocator) -> ByteBuffer {
        let reasonBytes = Array(reason.utf8.prefix(123))
        var buffer = allocator.buffer(capacity: 4 + reasonBytes.count)
        buffer.writeInteger(UInt8(0x88))
        buffer.writeInteger(UInt8(2 + reasonBytes.count))
        buffer.writeInteger(code)
        buffer.writeBytes(reasonBytes)
        return buffer
    }

    /// A close frame echoing a client's close payload exactly (code + reason), or an empty one.
    static func close(echoing payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        control(opcode: 0x8, payload: payload, allocator: allocator)
    }

    /// A pong answering a ping with `payload` (≤ 125 bytes, enforced by the decoder).
    /// A server ping (keepalive); the payload is empty.
    static func ping(allocator: ByteBufferAllocator) -> ByteBuffer {
        control(opcode: 0x9, payload: ByteBuffer(), allocator: allocator)
    }

    static func pong(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        control(opcode: 0xA, payload: payload, allocator: allocator)
    }

    private static func control(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = payload
        var buffer = allocator.buffer(capacity: 2 + payload.readableBytes)
        buffer.writeInteger(0x80 | opcode)
        buffer.writeInteger(UInt8(payload.readableBytes))
        buffer.writeBuffer(&payload)
        return buffer
    }

    /// Writes the payload after room for the header, then puts the header right in front of it.
    static func textFrame(
        capacity: Int, allocator: ByteBufferAllocator, _ body: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headerRoom + capacity)
        buffer.writeRepeatingByte(0, count: headerRoom)
        buffer.moveReaderIndex(forwardBy: headerRoom)
        body(&buffer)
        let length = buffer.readableBytes
        var header: [UInt8] = [0x81]
        if length < 126 {
            header.append(UInt8(length))
        } else if length <= 0xFFFF {
            header.append(126)
            header.append(UInt8(length >> 8))
            header.append(UInt8(length & 0xFF))
        } else {
            header.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8((UInt64(length) >> UInt64(shift)) & 0xFF)) }
        }
        let start = headerRoom - header.count
        buffer.setBytes(header, at: start)
        buffer.moveReaderIndex(to: start)
        return buffer
    }
}
