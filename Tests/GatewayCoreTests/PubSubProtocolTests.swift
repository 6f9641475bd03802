import NIOCore
import Testing

@testable import GatewayCore

@Suite struct PubSubProtocolTests {
    func parse(_ text: String) -> Result<PubSubRequest, PubSubRequest.Problem> {
        PubSubRequest.parse(ByteBuffer(string: text))
    }

    @Test func subscribeAndUnsubscribe() {
        #expect(parse(#"{"type":"subscribe","channel":"public:news"}"#) == .success(.subscribe(channel: "public:news")))
        #expect(parse(#" { "channel" : "a" , "type" : "unsubscribe" } "#) == .success(.unsubscribe(channel: "a")))
        #expect(parse(#"{"type":"subscribe","channel":"caf\u00e9","extra":[1,{"x":null}]}"#) == .success(.subscribe(channel: "café")))
    }

    @Test func publishKeepsDataBytesExactly() throws {
        let text = #"{"type":"publish","channel":"chat:1","data":{"b":1.50e3, "a":["\"x\"",true]}}"#
        guard case .success(.publish(let channel, let data)) = parse(text) else {
            Issue.record("not a publish")
            return
        }
        #expect(channel == "chat:1")
        #expect(String(buffer: data) == #"{"b":1.50e3, "a":["\"x\"",true]}"#)
        guard case .success(.publish(_, let null)) = parse(#"{"data":null,"type":"publish","channel":"c"}"#) else {
            Issue.record("not a publish")
            return
        }
        #expect(String(buffer: null) == "null")
    }

    @Test func badRequests() {
        #expect(parse("not json") == .failure(.notJSON))
        #expect(parse(#"{"type":"subscribe","channel":"a"} x"#) == .failure(.notJSON))
        #expect(parse(#"{"type":"subscribe","channel":"a",}"#) == .failure(.notJSON))
        #expect(parse("[1,2]") == .failure(.notAnObject))
        #expect(parse(#"{"channel":"a"}"#) == .failure(.missingType))
        #expect(parse(#"{"type":"shout","channel":"a"}"#) == .failure(.unknownType("shout")))
        #expect(parse(#"{"type":"subscribe"}"#) == .failure(.missingChannel))
        #expect(parse(#"{"type":"subscribe","channel":""}"#) == .failure(.invalidChannel))
        #expect(parse(#"{"type":"subscribe","channel":"a\nb"}"#) == .failure(.invalidChannel))
        #expect(parse(#"{"type":"publish","channel":"a"}"#) == .failure(.missingData))
        #expect(parse(#"{"type":"publish","channel":"a","data":01}"#) == .failure(.notJSON))
        #expect(parse(#"{"type":"publish","channel":"a","data":tru}"#) == .failure(.notJSON))
        #expect(parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) == .failure(.notJSON))
    }

    @Test func singleValueBodies() {
        #expect(PubSubData.singleValue(ByteBuffer(string: " {\"a\":1}\n")).map { String(buffer: $0) } == "{\"a\":1}")
        #expect(PubSubData.singleValue(ByteBuffer(string: "42")).map { String(buffer: $0) } == "42")
        #expect(PubSubData.singleValue(ByteBuffer(string: "1 2")) == nil)
        #expect(PubSubData.singleValue(ByteBuffer(string: "")) == nil)
        #expect(PubSubData.singleValue(ByteBuffer(bytes: [0x22, 0xFF, 0x22])) == nil)
    }

    @Test func redisPayloads() {
        #expect(PubSubData.fromRedisPayload(ByteBuffer(string: #"{"data":[1,2]}"#)).map { String(buffer: $0) } == "[1,2]")
        #expect(PubSubData.fromRedisPayload(ByteBuffer(string: #"{"x":0, "data" : "s"}"#)).map { String(buffer: $0) } == "\"s\"")
        #expect(PubSubData.fromRedisPayload(ByteBuffer(string: #"{"x":0}"#)).map { String(buffer: $0) } == #"{"x":0}"#)
        #expect(PubSubData.fromRedisPayload(ByteBuffer(string: "7")).map { String(buffer: $0) } == "7")
        #expect(PubSubData.fromRedisPayload(ByteBuffer(string: "nope")) == nil)
    }

    @Test func messageFrameIsACompleteTextFrame() {
        let frame = PubSubFrames.message(
            channel: "c\"1", data: ByteBuffer(string: "{\"n\":1}"), allocator: ByteBufferAllocator())
        let payload = #"{"type":"message","channel":"c\"1","data":{"n":1}}"#
        #expect(frame.getInteger(at: frame.readerIndex, as: UInt8.self) == 0x81)
        #expect(frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self) == UInt8(payload.utf8.count))
        #expect(frame.getString(at: frame.readerIndex + 2, length: frame.readableBytes - 2) == payload)

        let big = PubSubFrames.message(
            channel: "c", data: ByteBuffer(string: "\"" + String(repeating: "x", count: 70_000) + "\""),
            allocator: ByteBufferAllocator())
        #expect(big.getInteger(at: big.readerIndex + 1, as: UInt8.self) == 127)
        #expect(big.getInteger(at: big.readerIndex + 2, as: UInt64.self) == UInt64(big.readableBytes - 10))
        let medium = PubSubFrames.confirmation("subscribed", channel: String(repeating: "m", count: 200), allocator: ByteBufferAllocator())
        #expect(medium.getInteger(at: medium.readerIndex + 1, as: UInt8.self) == 126)
        #expect(medium.getInteger(at: medium.readerIndex + 2, as: UInt16.self) == UInt16(medium.readableBytes - 4))
    }

    @Test func closeCodes() {
        #expect(PubSubSocketHandler.isValidCloseCode(1000))
        #expect(PubSubSocketHandler.isValidCloseCode(4000))
        #expect(!PubSubSocketHandler.isValidCloseCode(1005))
        #expect(!PubSubSocketHandler.isValidCloseCode(1006))
        #expect(!PubSubSocketHandler.isValidCloseCode(999))
    }
}
