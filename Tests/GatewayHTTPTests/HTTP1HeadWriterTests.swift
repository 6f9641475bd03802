import NIOCore
import Testing

@testable import GatewayHTTP

@Suite struct HTTP1HeadWriterTests {
    func write(_ text: String, _ request: HTTP1HeadWriter.UpstreamRequest) throws -> String {
        let parsed = try #require(head(parseRequest(text)))
        var out = ByteBuffer()
        HTTP1HeadWriter.writeUpstreamRequest(parsed, request, into: &out)
        return String(buffer: out)
    }

    @Test func rewritesTheHeadForTheUpstream() throws {
        let text =
            "POST /api/x?y=1 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n"
            + "Keep-Alive: 5\r\nProxy-Authorization: secret\r\nProxy-Foo: 1\r\nX-Gateway-User: mallory\r\n"
            + "X-Request-Id: client\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\nVia: 1.0 edge\r\n"
            + "Expect: 100-continue\r\nContent-Length: 05\r\nUpgrade: h2c\r\nTE: trailers\r\nAccept: */*\r\n\r\n"
        let out = try write(
            text,
            .init(
                target: "/x?y=1", clientAddress: "10.0.0.9", requestID: "rid-1",
                extraHeaders: [("X-Gateway-User", "alice")]))
        #expect(
            out
                == "POST /x?y=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nAccept: */*\r\n"
                + "X-Forwarded-For: 1.1.1.1, 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: example.com\r\n"
                + "Via: 1.0 edge, 1.1 gateway\r\nX-Request-Id: rid-1\r\nX-Gateway-User: alice\r\n\r\n")
    }

    @Test func trustedPeerKeepsForwardedProtoAndHost() throws {
        let out = try write(
            "GET / HTTP/1.1\r\nHost: inner\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: outer\r\n\r\n",
            .init(clientAddress: "127.0.0.1", peerIsTrusted: true, requestID: "r"))
        #expect(
            out
                == "GET / HTTP/1.1\r\nHost: inner\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: outer\r\nVia: 1.1 gateway\r\nX-Request-Id: r\r\n\r\n")
    }

    @Test func chunkedBodyAndUpgrade() throws {
        let chunked = try write(
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", .init(clientAddress: "1.2.3.4", requestID: "r"))
        #expect(chunked.hasSuffix("X-Request-Id: r\r\nTransfer-Encoding: chunked\r\n\r\n"))
        let upgrade = try write(
            "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
            .init(clientAddress: "1.2.3.4", requestID: "r", keepUpgrade: true))
        #expect(
            upgrade
                == "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\n"
                + "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nVia: 1.1 gateway\r\n"
                + "X-Request-Id: r\r\n\r\n")
    }

    /// Found by the fuzzer: HTTP/1.1 upstream requests must carry Host even when an HTTP/1.0 client sent none.
    @Test func http10WithoutHostGetsOne() throws {
        let withDefault = try write("GET /x HTTP/1.0\r\n\r\n", .init(clientAddress: "1.2.3.4", requestID: "r", defaultHost: "app:8080"))
        #expect(withDefault.hasPrefix("GET /x HTTP/1.1\r\nHost: app:8080\r\n"))
        let empty = try write("GET /x HTTP/1.0\r\n\r\n", .init(clientAddress: "1.2.3.4", requestID: "r"))
        #expect(empty.hasPrefix("GET /x HTTP/1.1\r\nHost: \r\n"))
        var parser = HTTP1RequestHeadParser()
        var buffer = ByteBuffer(string: empty)
        guard case .head = parser.parse(&buffer) else {
            Issue.record("the rewritten head does not parse")
            return
        }
    }
}
