import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import GatewayCore

/// The h2c preface check, the `server.http2` → nio-http2 mapping and the connection keeper (SPEC §7).
@Suite struct HTTP2EdgeTests {
    let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    @Test func prefaceDecidesOnlyWhenItCan() {
        #expect(H2CPreface.classify(preface) == .http2)
        #expect(H2CPreface.classify(preface + Array("\u{0}\u{0}\u{0}\u{4}".utf8)) == .http2)
        // A prefix of it: wait for more bytes.
        #expect(H2CPreface.classify([UInt8]()) == nil)
        #expect(H2CPreface.classify(Array(preface.prefix(3))) == nil)
        #expect(H2CPreface.classify(Array(preface.prefix(23))) == nil)
        // HTTP/1 requests are recognised at the first differing byte.
        #expect(H2CPreface.classify(Array("GET / HTTP/1.1\r\n".utf8)) == .http1)
        #expect(H2CPreface.classify(Array("POST /".utf8)) == .http1)
        #expect(H2CPreface.classify(Array("PRI * HTTP/1.1\r\n".utf8)) == .http1)
        #expect(H2CPreface.classify(Array("PRX".utf8)) == .http1)
        // Garbage and a preface with a broken tail.
        #expect(H2CPreface.classify([0x16, 0x03, 0x01]) == .http1)  // a TLS ClientHello on a plain port
        var broken = preface
        broken[20] = UInt8(ascii: "X")
        #expect(H2CPreface.classify(broken) == .http1)
    }

    @Test func settingsAndFloodLimitsReachNIOHTTP2() {
        var settings = HTTP2ServerSettings()
        settings.maxConcurrentStreams = 7
        settings.maxHeaderListBytes = 4096
        settings.maxResets = 11
        settings.resetWindow = .seconds(3)
        settings.maxControlFrames = 13
        settings.controlFrameWindow = .seconds(4)
        let connection = HTTP2Pipeline.connectionConfiguration(settings)
        #expect(connection.initialSettings.contains(HTTP2Setting(parameter: .maxConcurrentStreams, value: 7)))
        #expect(connection.initialSettings.contains(HTTP2Setting(parameter: .maxHeaderListSize, value: 4096)))
        #expect(connection.initialSettings.contains(HTTP2Setting(parameter: .enablePush, value: 0)))
        #expect(connection.controlFrameRateLimit.maximumCount == 13)
        #expect(connection.controlFrameRateLimit.windowLength == .seconds(4))
        #expect(connection.maximumSequentialContinuationFrames > 0)
        let stream = HTTP2Pipeline.streamConfiguration(settings)
        #expect(stream.streamResetFrameRateLimit.maximumCount == 11)
        #expect(stream.streamResetFrameRateLimit.windowLength == .seconds(3))
    }

    @Test func floodErrorsAreNamed() {
        #expect(HTTP2ConnectionKeeper.floodReason(NIOHTTP2Errors.excessiveRSTFrames()) == "rapid_reset")
        #expect(HTTP2ConnectionKeeper.floodReason(NIOHTTP2Errors.excessiveControlFrames()) == "control_frames")
        #expect(HTTP2ConnectionKeeper.floodReason(NIOHTTP2Errors.excessiveContinuationFrames()) == "continuation")
        #expect(HTTP2ConnectionKeeper.floodReason(NIOHTTP2Errors.excessivelyLargeHeaderBlock()) == "header_block")
        #expect(HTTP2ConnectionKeeper.floodReason(ChannelError.ioOnClosedChannel) == nil)
    }

    func keeperChannel(idle: TimeAmount = .seconds(60)) throws -> (EmbeddedChannel, HTTP2StreamEvents) {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let keeper = HTTP2ConnectionKeeper(observer: RequestObserver(accessLog: nil), idleTimeout: idle)
        try channel.pipeline.syncOperations.addHandler(keeper)
        return (channel, HTTP2StreamEvents(keeper: NIOLoopBound(keeper, eventLoop: channel.eventLoop)))
    }

    func goAway(_ channel: EmbeddedChannel) throws -> (HTTP2StreamID, HTTP2ErrorCode)? {
        guard let frame = try channel.readOutbound(as: HTTP2Frame.self),
            case .goAway(let last, let code, _) = frame.payload
        else { return nil }
        return (last, code)
    }

    @Test func quiesceWithOpenStreamsSendsGoAwayAndClosesWhenTheyEnd() throws {
        let (channel, streams) = try keeperChannel()
        let first = EmbeddedChannel(loop: channel.embeddedEventLoop)
        let fifth = EmbeddedChannel(loop: channel.embeddedEventLoop)
        streams.opened(first, id: 1)
        streams.opened(fifth, id: 5)
        first.close(promise: nil)
        channel.embeddedEventLoop.run()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        let sent = try #require(try goAway(channel))
        #expect(sent.0 == 5 && sent.1 == .noError)
        #expect(channel.isActive)
        fifth.close(promise: nil)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func quiesceWhenIdleClosesAtOnce() throws {
        let (channel, _) = try keeperChannel()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try goAway(channel)?.1 == .noError)
        #expect(!channel.isActive)
    }

    @Test func idleConnectionsAreClosedButBusyOnesAreNot() throws {
        let (channel, streams) = try keeperChannel(idle: .seconds(5))
        let stream = EmbeddedChannel(loop: channel.embeddedEventLoop)
        streams.opened(stream, id: 1)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        stream.close(promise: nil)
        channel.embeddedEventLoop.run()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func floodsCloseTheConnectionStreamErrorsDoNot() throws {
        let (flooded, _) = try keeperChannel()
        flooded.pipeline.fireErrorCaught(NIOHTTP2Errors.excessiveRSTFrames())
        #expect(!flooded.isActive)
        let (streamError, _) = try keeperChannel()
        streamError.pipeline.fireErrorCaught(NIOHTTP2Errors.contentLengthViolated())
        #expect(streamError.isActive)
        let (io, _) = try keeperChannel()
        io.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
        #expect(!io.isActive)
    }
}
