import CompressNIO
import NIOCore
import NIOEmbedded
import NIOHTTP1
import GatewayConfig
import Testing

@testable import GatewayCore

@Suite struct GzipResponseHandlerTests {
    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(GzipResponseHandler())
        return channel
    }

    func head(marked: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
        if marked { headers.add(name: ResponseCompression.markerHeader, value: "6") }
        return HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
    }

    /// Everything written to the socket side, as response parts.
    func drain(_ channel: EmbeddedChannel) throws -> [HTTPServerResponsePart] {
        var parts: [HTTPServerResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
        return parts
    }

    func bodyBytes(_ parts: [HTTPServerResponsePart]) -> ByteBuffer {
        var out = ByteBuffer()
        for case .body(.byteBuffer(var buffer)) in parts { out.writeBuffer(&buffer) }
        return out
    }

    func gunzip(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var input = buffer
        return try input.decompress(with: .gzip())
    }

    @Test func compressesMarkedResponsesByteForByte() throws {
        let channel = try makeChannel()
        var original = ByteBuffer()
        for index in 0..<2000 { original.writeString("{\"id\":\(index),\"name\":\"item-\(index)\"},") }
        try channel.writeOutbound(HTTPServerResponsePart.head(head(marked: true)))
        var remaining = original
        while remaining.readableBytes > 0 {
            let slice = remaining.readSlice(length: min(7000, remaining.readableBytes))!
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(slice)))
        }
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        let parts = try drain(channel)
        guard case .head(let written) = parts.first else {
            Issue.record("no head")
            return
        }
        #expect(!written.headers.contains(name: ResponseCompression.markerHeader))
        let compressed = bodyBytes(parts)
        #expect(compressed.readableBytes < original.readableBytes / 3)
        #expect(try gunzip(compressed) == original)
    }

    @Test func eachFlushEmitsWhatWasWrittenSoFar() throws {
        let channel = try makeChannel()
        try channel.writeOutbound(HTTPServerResponsePart.head(head(marked: true)))
        _ = try drain(channel)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "data: one\n\n"))), promise: nil)
        channel.flush()
        let first = bodyBytes(try drain(channel))
        // A sync flush ends on the empty stored block 00 00 ff ff: a client can inflate everything so far.
        #expect(first.readableBytes > 0)
        #expect(Array(first.readableBytesView.suffix(4)) == [0x00, 0x00, 0xFF, 0xFF])
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "data: two\n\n"))), promise: nil)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        var all = first
        var rest = bodyBytes(try drain(channel))
        all.writeBuffer(&rest)
        #expect(try gunzip(all) == ByteBuffer(string: "data: one\n\ndata: two\n\n"))
    }

    @Test func unmarkedResponsesPassThroughUntouched() throws {
        let channel = try makeChannel()
        var plain = head(marked: false)
        plain.headers.remove(name: "content-encoding")
        try channel.writeOutbound(HTTPServerResponsePart.head(plain))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "hello"))))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        let parts = try drain(channel)
        #expect(bodyBytes(parts) == ByteBuffer(string: "hello"))
        #expect(parts.count == 3)
    }

    @Test func decisionFollowsTheRules() {
        var settings = GatewayConfig.CompressionSettings()
        settings.minBytes = 100
        let request = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Accept-Encoding", "gzip")]))
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("ETag", "\"v1\""), ("Content-Length", "5000")])
        #expect(ResponseCompression.prepare(&headers, status: .ok, request: request, settings: settings))
        #expect(headers.first(name: "etag") == "W/\"v1\"")
        #expect(headers.first(name: "vary") == "Accept-Encoding")
        #expect(!headers.contains(name: "content-length"))
        var small = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "10")])
        #expect(!ResponseCompression.prepare(&small, status: .ok, request: request, settings: settings))
        var image = HTTPHeaders([("Content-Type", "image/png"), ("Content-Length", "5000")])
        #expect(!ResponseCompression.prepare(&image, status: .ok, request: request, settings: settings))
        #expect(!image.contains(name: "vary"))
    }
}
