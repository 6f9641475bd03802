import NIOCore

/// `text/event-stream` encoding (WHATWG HTML §9.2).
enum SSEEvents {
    /// `id: …\nevent: message\ndata: {"channel":"…","data":…}\n\n`.
    static func message(channel: String, data: ByteBuffer, id: String?) -> ByteBuffer {
        var json = ByteBuffer()
        json.reserveCapacity(24 + channel.utf8.count + data.readableBytes)
        json.writeStaticString("{\"channel\":")
        json.writeString(JSONText.quote(channel))
        json.writeStaticString(",\"data\":")
        var data = data
        json.writeBuffer(&data)
        json.writeStaticString("}")
        return event("message", id: id, data: json)
    }

    /// One event. `data` is JSON: a line break can only sit in its whitespace, and each one starts a new `data:` line
    /// (the client joins them with "\n", which leaves the JSON intact).
    static func event(_ name: String, id: String?, data: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(data.readableBytes + 32 + (id?.utf8.count ?? 0))
        if let id {
            out.writeStaticString("id: ")
            out.writeString(id)
            out.writeStaticString("\n")
        }
        out.writeStaticString("event: ")
        out.writeString(name)
        out.writeStaticString("\ndata: ")
        let view = data.readableBytesView
        if view.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            var previousCR = false
            for byte in view {
                if byte == 0x0A && previousCR {
                    previousCR = false
                    continue
                }
                previousCR = byte == 0x0D
                if byte == 0x0A || byte == 0x0D {
                    out.writeStaticString("\ndata: ")
                } else {
                    out.writeInteger(byte)
                }
            }
        } else {
            var data = data
            out.writeBuffer(&data)
        }
        out.writeStaticString("\n\n")
        return out
    }
}

/// The `id:` of an SSE stream: the position of every history channel of the stream, in the order of `?channel=`,
/// joined by `,`. With one history channel that is exactly `EPOCH:OFFSET` (SPEC §9); a channel whose position is
/// not known yet is `-`. The browser sends the last id back as `Last-Event-ID`, which `resume` turns back into
/// per-channel positions, so one reconnect resumes every channel with the no-gap, no-duplicate promise.
struct SSEEventID: Equatable {
    let channels: [String]
    private var positions: [StreamPosition?]

    init(historyChannels: [String]) {
        channels = historyChannels
        positions = Array(repeating: nil, count: historyChannels.count)
    }

    mutating func update(_ channel: String, _ position: StreamPosition) {
        guard let index = channels.firstIndex(of: channel) else { return }
        positions[index] = position
    }

    var value: String {
        positions.map { $0?.description ?? "-" }.joined(separator: ",")
    }

    /// Per-channel positions from a `Last-Event-ID`; nil when it does not fit these channels (the caller then answers
    /// every history channel with `recovered:false`).
    static func resume(_ header: String, historyChannels: [String]) -> [String: StreamPosition]? {
        let parts = header.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == historyChannels.count else { return nil }
        var out: [String: StreamPosition] = [:]
        for (channel, part) in zip(historyChannels, parts) {
            let text = String(part).trimmedSpaces()
            if text == "-" { continue }
            guard let position = StreamPosition(eventID: text[...]) else { return nil }
            out[channel] = position
        }
        return out
    }
}

extension String {
    fileprivate func trimmedSpaces() -> String {
        let set: Character = " "
        var slice = self[...]
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}
