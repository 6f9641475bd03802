@testable import GatewayRedis
import NIOCore
import Testing

@Suite struct PureLogicTests {
    @Test func backoffDoublesWithJitterAndCaps() {
        var backoff = ReconnectBackoff(initial: .milliseconds(50), maximum: .seconds(2))
        // unit 1 → upper edge of the window: 50, 100, 200, ... capped at 2000 ms.
        let upper = (0..<10).map { _ in backoff.nextDelay(unit: 1).nanoseconds / 1_000_000 }
        #expect(upper == [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000])
        backoff.reset()
        // unit 0 → lower edge (half).
        #expect(backoff.nextDelay(unit: 0) == .milliseconds(25))
        #expect(backoff.nextDelay(unit: 0) == .milliseconds(50))
        for _ in 0..<100 { _ = backoff.nextDelay() }
        let random = backoff.nextDelay()
        #expect(random >= .seconds(1) && random <= .seconds(2))
    }

    @Test func sha1MatchesKnownVectors() {
        #expect(SHA1.hexDigest("".utf8) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hexDigest("abc".utf8) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test func encoderProducesRESP() throws {
        var buffer = ByteBuffer()
        try RESPEncoder.encode(["SET", "k", "v\r\n"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n")
        var binary = ByteBuffer()
        try RESPEncoder.encode([ByteBuffer(string: "ECHO"), ByteBuffer(bytes: [0, 255, 13, 10]), ByteBuffer()],
                               into: &binary)
        #expect(Array(binary.readableBytesView) == Array("*3\r\n$4\r\nECHO\r\n$4\r\n".utf8) + [0, 255, 13, 10]
            + Array("\r\n$0\r\n\r\n".utf8))
        #expect(throws: RedisError.self) { try RESPEncoder.encode([String](), into: &buffer) }
    }

    @Test func readerParsesPartialFeeds() throws {
        let reader = RESPReader()
        let wire = "+OK\r\n-ERR bad\r\n:42\r\n$-1\r\n*2\r\n$3\r\na\0b\r\n*1\r\n:7\r\n$0\r\n\r\n"
        var values: [RESPValue] = []
        for byte in wire.utf8 {  // one byte at a time
            try reader.feed(ByteBuffer(bytes: [byte]))
            while let value = try reader.next() { values.append(value) }
        }
        #expect(values == [
            .simpleString("OK"), .error("ERR bad"), .integer(42), .null,
            .array([.bulkString(ByteBuffer(bytes: [97, 0, 98])), .array([.integer(7)])]),
            .bulkString(ByteBuffer()),
        ])
        let broken = RESPReader()
        try? broken.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { _ = try broken.next() }
    }

    @Test func respValueAccessors() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "12")).int == 12)
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.integer(3).string == nil)
        #expect(RESPValue.array([.null]).array == [.null])
        #expect(RESPValue.null.int == nil)
    }

    @Test func pubSubPushParsing() {
        let message = RESPValue.array([.bulkString(ByteBuffer(string: "message")),
                                       .bulkString(ByteBuffer(string: "ch")), .bulkString(ByteBuffer(string: "hi"))])
        #expect(PubSubPush(message) == .message(channel: "ch", payload: ByteBuffer(string: "hi")))
        let pong = RESPValue.array([.bulkString(ByteBuffer(string: "pong")), .bulkString(ByteBuffer())])
        #expect(PubSubPush(pong) == nil)
    }
}
