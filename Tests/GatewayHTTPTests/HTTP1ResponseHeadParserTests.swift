import NIOCore
import Testing

@testable import GatewayHTTP

func parseResponse(_ text: String, method: HTTP1Method = .get) -> HTTP1ResponseHeadParser.Result {
    var parser = HTTP1ResponseHeadParser(maxHeaderBytes: 256)
    var buffer = ByteBuffer(string: text)
    return parser.parse(&buffer, requestMethod: method)
}

func responseHead(_ result: HTTP1ResponseHeadParser.Result) -> HTTP1ResponseHead? {
    if case .head(let head) = result { return head }
    return nil
}

@Suite struct HTTP1ResponseHeadParserTests {
    @Test func parsesAResponse() throws {
        let parsed = try #require(
            responseHead(parseResponse("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok")))
        #expect(parsed.status == 201)
        #expect(parsed.reason == "Created")
        #expect(parsed.framing == .contentLength(2))
        #expect(parsed.keepAlive)
        #expect(parsed.headerPairs.map(\.name) == ["Content-Length", "X-A"])
    }

    @Test func framingFollowsRFC9112Section6_3() {
        #expect(responseHead(parseResponse("HTTP/1.1 200\r\nContent-Length: 5\r\n\r\n", method: .head))?.framing == .noBody)
        #expect(responseHead(parseResponse("HTTP/1.1 204 No Content\r\n\r\n"))?.framing == .noBody)
        #expect(responseHead(parseResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"))?.framing == .noBody)
        #expect(responseHead(parseResponse("HTTP/1.1 100 Continue\r\n\r\n"))?.isInformational == true)
        #expect(responseHead(parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))?.framing == .chunked)
        let untilClose = responseHead(parseResponse("HTTP/1.1 200 OK\r\n\r\n"))
        #expect(untilClose?.framing == .untilClose)
        #expect(untilClose?.keepAlive == false)
        let gzipOnly = responseHead(parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"))
        #expect(gzipOnly?.framing == .untilClose)
        #expect(gzipOnly?.keepAlive == false)
        #expect(responseHead(parseResponse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"))?.keepAlive == false)
        #expect(responseHead(parseResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"))?.keepAlive == false)
        #expect(
            responseHead(parseResponse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"))?
                .isUpgrade == true)
    }

    /// Upstream responses that could poison a pooled connection, or are simply broken.
    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 300) + "\r\n\r\n",
    ])
    func refuses(_ text: String) {
        guard case .error = parseResponse(text) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
    }

    @Test func oversizedIncompleteHeadIsRefused() {
        guard case .error(let error) = parseResponse("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 2000)) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.kind == .headerFieldsTooLarge)
    }
}
