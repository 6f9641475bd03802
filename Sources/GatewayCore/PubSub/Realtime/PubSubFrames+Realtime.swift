import NIOCore

/// The frames SPEC §9 adds (history positions, recovery, history, presence).
extension PubSubFrames {
    /// `{"type":"message","channel":"…","data":…,"offset":N,"epoch":"E"}`; without position as before.
    static func message(
        channel: String, data: ByteBuffer, position: StreamPosition?, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        guard let position else { return message(channel: channel, data: data, allocator: allocator) }
        let quoted = JSONText.quote(channel)
        let tail = ",\"offset\":\(position.offset),\"epoch\":\(JSONText.quote(position.epoch))}"
        var data = data
        return textFrame(capacity: 40 + quoted.utf8.count + data.readableBytes + tail.utf8.count, allocator: allocator) {
            buffer in
            buffer.writeStaticString("{\"type\":\"message\",\"channel\":")
            buffer.writeString(quoted)
            buffer.writeStaticString(",\"data\":")
            buffer.writeBuffer(&data)
            buffer.writeString(tail)
        }
    }

    /// `{"type":"subscribed","channel":"…"[,"recovered":B],"offset":N,"epoch":"E"}` for a history channel.
    static func subscribed(
        channel: String, recovered: Bool?, position: StreamPosition?, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var text = "{\"type\":\"subscribed\",\"channel\":\(JSONText.quote(channel))"
        if let recovered { text += ",\"recovered\":\(recovered)" }
        if let position { text += ",\"offset\":\(position.offset),\"epoch\":\(JSONText.quote(position.epoch))" }
        text += "}"
        return textFrame(capacity: text.utf8.count, allocator: allocator) { $0.writeString(text) }
    }

    /// `{"type":"history","channel":"…","messages":[{"offset":N,"data":…},…],"offset":N,"epoch":"E"}`.
    static func history(channel: String, read: HistoryRead, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = HistoryJSON.object(prefix: "{\"type\":\"history\",\"channel\":\(JSONText.quote(channel)),", read: read)
        return textFrame(capacity: body.readableBytes, allocator: allocator) { buffer in
            var body = body
            buffer.writeBuffer(&body)
        }
    }

    /// `{"type":"presence","channel":"…","clients":[{"user":…,"client":"…"},…]}`.
    static func presence(channel: String, clients: [String], allocator: ByteBufferAllocator) -> ByteBuffer {
        let text =
            "{\"type\":\"presence\",\"channel\":\(JSONText.quote(channel)),\"clients\":[\(clients.joined(separator: ","))]}"
        return textFrame(capacity: text.utf8.count, allocator: allocator) { $0.writeString(text) }
    }

    /// `{"type":"join"|"leave","channel":"…","user":…,"client":"…"}`.
    static func presenceEvent(
        _ kind: RealtimePayload.PresenceEvent, channel: String, member: PresenceMember, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let text = presenceEventJSON(kind, channel: channel, member: member)
        return textFrame(capacity: text.utf8.count, allocator: allocator) { $0.writeString(text) }
    }

    static func presenceEventJSON(_ kind: RealtimePayload.PresenceEvent, channel: String, member: PresenceMember) -> String {
        "{\"type\":\"\(kind.rawValue)\",\"channel\":\(JSONText.quote(channel)),\"user\":\(member.user.map(JSONText.quote) ?? "null"),\"client\":\(JSONText.quote(member.client))}"
    }
}

/// The history object shared by the `history` frame and `GET /channels/CHANNEL/history`.
enum HistoryJSON {
    static func object(prefix: String, read: HistoryRead) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + read.entries.reduce(0) { $0 + $1.data.readableBytes + 24 })
        buffer.writeString(prefix)
        buffer.writeStaticString("\"messages\":[")
        for (index, entry) in read.entries.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeString("{\"offset\":\(entry.offset),\"data\":")
            var data = entry.data
            buffer.writeBuffer(&data)
            buffer.writeStaticString("}")
        }
        buffer.writeString("],\"offset\":\(read.position.offset),\"epoch\":\(JSONText.quote(read.position.epoch))}")
        return buffer
    }
}
