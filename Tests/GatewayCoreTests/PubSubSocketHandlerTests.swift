import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import GatewayCore

/// The socket handler on an `EmbeddedChannel`: frames in, raw RFC 6455 bytes out.
@Suite struct PubSubSocketHandlerTests {
    func makeChannel(user: String? = nil) throws -> EmbeddedChannel {
        var settings = PubSubSettings()
        settings.subscribe = ["public:*", "user:{user}"]
        settings.publish = ["public:*"]
        settings.maxMessageBytes = 64
        let handler = PubSubSocketHandler(
            endpoint: PubSubHub.inMemory(logger: .init(label: "test")), settings: settings, user: user,
            initialChannels: ["public:a"], onClose: {})
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        return channel
    }

    func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(string: text)
        let key: WebSocketMaskingKey? = masked ? [1, 2, 3, 4] : nil
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: data)
    }

    /// Every complete frame written so far as (opcode, payload text).
    func written(_ channel: EmbeddedChannel) throws -> [(UInt8, String)] {
        var out: [(UInt8, String)] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes > 0 {
                let first = buffer.readInteger(as: UInt8.self)!
                var length = Int(buffer.readInteger(as: UInt8.self)!)
                if length == 126 { length = Int(buffer.readInteger(as: UInt16.self)!) }
                if length == 127 { length = Int(buffer.readInteger(as: UInt64.self)!) }
                let payload = buffer.readSlice(length: length)!
                out.append((first & 0x0F, first & 0x0F == 0x8 ? String(payload.getInteger(at: payload.readerIndex, as: UInt16.self) ?? 0) : String(buffer: payload)))
            }
        }
        return out
    }

    @Test func connectSubscriptionPublishAndMessages() throws {
        let channel = try makeChannel()
        #expect(try written(channel).map(\.1) == [#"{"type":"subscribed","channel":"public:a"}"#])
        try channel.writeInbound(frame(.text, #"{"type":"publish","channel":"public:a","data":[1]}"#))
        channel.embeddedEventLoop.run()
        #expect(try written(channel).map(\.1) == [#"{"type":"message","channel":"public:a","data":[1]}"#])
        try channel.writeInbound(frame(.text, #"{"type":"subscribe","channel":"user:bob"}"#))
        let error = try written(channel)
        #expect(error.count == 1 && error[0].1.contains("\"forbidden\""))
    }

    @Test func fragmentsPingsAndUserChannels() throws {
        let channel = try makeChannel(user: "bob")
        _ = try written(channel)
        try channel.writeInbound(frame(.text, #"{"type":"subscribe","#, fin: false))
        try channel.writeInbound(frame(.ping, "hi"))
        try channel.writeInbound(frame(.continuation, #""channel":"user:bob"}"#))
        let out = try written(channel)
        #expect(out.map(\.0) == [0xA, 0x1])
        #expect(out[0].1 == "hi")
        #expect(out[1].1 == #"{"type":"subscribed","channel":"user:bob"}"#)
    }

    @Test(arguments: [
        ("binary", UInt16(1003)), ("badutf8", 1007), ("unmasked", 1002), ("toolong", 1009), ("close", 1000),
    ])
    func closes(_ scenario: String, _ code: UInt16) throws {
        let channel = try makeChannel()
        _ = try written(channel)
        switch scenario {
        case "binary": try channel.writeInbound(frame(.binary, "x"))
        case "unmasked": try channel.writeInbound(frame(.text, "{}", masked: false))
        case "toolong":
            try channel.writeInbound(frame(.text, String(repeating: "x", count: 40), fin: false))
            try channel.writeInbound(frame(.continuation, String(repeating: "x", count: 40)))
        case "close":
            var payload = ByteBuffer()
            payload.writeInteger(UInt16(1000))
            let key: WebSocketMaskingKey = [9, 9, 9, 9]
            payload.webSocketMask(key)
            try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: key, data: payload))
        default:
            var data = ByteBuffer(bytes: [0xC3, 0x28])
            let key: WebSocketMaskingKey = [1, 2, 3, 4]
            data.webSocketMask(key)
            try channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: data))
        }
        let out = try written(channel)
        #expect(out.last?.0 == 0x8)
        #expect(out.last?.1 == String(code))
    }
}
