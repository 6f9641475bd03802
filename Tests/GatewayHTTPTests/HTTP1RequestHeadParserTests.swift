import NIOCore
import Testing

@testable import GatewayHTTP

/// Parses `text` in one go with the given limits.
func parseRequest(_ text: String, limits: HTTP1HeadLimits = HTTP1HeadLimits()) -> HTTP1RequestHeadParser.Result {
    var parser = HTTP1RequestHeadParser(limits: limits)
    var buffer = ByteBuffer(string: text)
    return parser.parse(&buffer)
}

func head(_ result: HTTP1RequestHeadParser.Result) -> HTTP1RequestHead? {
    if case .head(let head) = result { return head }
    return nil
}

func errorStatus(_ result: HTTP1RequestHeadParser.Result) -> Int? {
    if case .error(let error) = result { return error.status }
    return nil
}

@Suite struct HTTP1RequestHeadParserTests {
    @Test func parsesASimpleRequest() throws {
        let parsed = try #require(head(parseRequest("GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-Id:  42 \r\n\r\n")))
        #expect(parsed.method == .get)
        #expect(parsed.methodString == "GET")
        #expect(parsed.target == "/a/b?c=d")
        #expect(parsed.targetForm == .origin)
        #expect(parsed.version == .http11)
        #expect(parsed.host == "example.com")
        #expect(parsed.headerPairs.map { "\($0.name)=\($0.value)" } == ["Host=example.com", "X-Id=42"])
        #expect(parsed.framing == .noBody)
        #expect(parsed.keepAlive)
        #expect(!parsed.expectContinue)
        #expect(!parsed.isUpgrade)
    }

    @Test func framingAndConnectionOptions() throws {
        let post = try #require(head(parseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")))
        #expect(post.framing == .contentLength(5))
        let chunked = try #require(
            head(parseRequest("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: Chunked\r\nConnection: close\r\n\r\n")))
        #expect(chunked.framing == .chunked)
        #expect(!chunked.keepAlive)
        let old = try #require(head(parseRequest("GET / HTTP/1.0\r\n\r\n")))
        #expect(old.version == .http10)
        #expect(!old.keepAlive)
        let oldKeepAlive = try #require(head(parseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")))
        #expect(oldKeepAlive.keepAlive)
        let upgrade = try #require(
            head(parseRequest("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")))
        #expect(upgrade.isUpgrade)
        let expect = try #require(
            head(parseRequest("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")))
        #expect(expect.expectContinue)
        #expect(expect.method == .put)
    }

    @Test func targetForms() throws {
        #expect(head(parseRequest("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"))?.targetForm == .absolute)
        #expect(head(parseRequest("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"))?.targetForm == .asterisk)
        #expect(head(parseRequest("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"))?.method == .connect)
        #expect(errorStatus(parseRequest("GET * HTTP/1.1\r\nHost: h\r\n\r\n")) == 400)
        #expect(errorStatus(parseRequest("GET example.com HTTP/1.1\r\nHost: h\r\n\r\n")) == 400)
    }

    /// Every refusal the gateway makes on a request head, with its status.
    @Test(arguments: [
        // syntax
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", 400),  // bare LF
        ("GET / HTTP/1.1\r\nHost: h\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400),  // bare CR
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400),  // NUL
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7f}\r\n\r\n", 400),  // DEL
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}\r\n\r\n", 400),  // control
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),  // obs-fold
        ("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),  // space before colon
        ("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400),  // empty name
        ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", 400),  // not a token
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),  // two spaces
        ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
        ("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),  // HTTP/0.9
        ("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET /\u{7f} HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
        // framing (request smuggling shapes)
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400),  // repeated, even if equal
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 501),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        // Host
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    ])
    func refuses(_ text: String, _ status: Int) {
        #expect(errorStatus(parseRequest(text)) == status, "\(text.debugDescription)")
    }

    @Test func limits() {
        let limits = HTTP1HeadLimits(maxHeaderBytes: 100, maxURIBytes: 20, maxFields: 3)
        #expect(head(parseRequest("GET /1234567890123456789 HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits)) != nil)
        #expect(errorStatus(parseRequest("GET /12345678901234567890 HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits)) == 414)
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        #expect(errorStatus(parseRequest(big, limits: limits)) == 431)
        let many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(errorStatus(parseRequest(many, limits: limits)) == 431)
        // Incomplete heads are refused as soon as they cannot fit any more.
        #expect(errorStatus(parseRequest("GET /" + String(repeating: "a", count: 2000), limits: limits)) == 414)
        #expect(errorStatus(parseRequest("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), limits: limits)) == 431)
        #expect(errorStatus(parseRequest("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")) == 400)
    }

    @Test func leadingEmptyLinesAreIgnored() throws {
        let parsed = try #require(head(parseRequest("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")))
        #expect(parsed.target == "/")
    }

    /// A head fed one byte at a time parses to the same head, and only once it is complete.
    @Test func incrementalFeedingMatchesOneShot() throws {
        let text = "POST /upload?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc"
        var parser = HTTP1RequestHeadParser()
        var buffer = ByteBuffer()
        var parsed: HTTP1RequestHead? = nil
        for byte in text.utf8 {
            buffer.writeInteger(byte)
            switch parser.parse(&buffer) {
            case .needMore: continue
            case .error(let error): Issue.record("unexpected \(error)")
            case .head(let value): parsed = value
            }
            break
        }
        let result = try #require(parsed)
        #expect(result.target == "/upload?x=1")
        #expect(result.framing == .contentLength(3))
        #expect(result.headerPairs.count == 3)
        #expect(buffer.readableBytes == 0)  // "abc" not fed yet: the loop stopped at the end of the head
    }

    @Test func pipelinedHeadsComeOneAfterTheOther() throws {
        var parser = HTTP1RequestHeadParser()
        var buffer = ByteBuffer(string: "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3")
        #expect(head(parser.parse(&buffer))?.target == "/1")
        #expect(head(parser.parse(&buffer))?.target == "/2")
        guard case .needMore = parser.parse(&buffer) else {
            Issue.record("expected needMore")
            return
        }
        buffer.writeString(" HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(head(parser.parse(&buffer))?.target == "/3")
    }

    @Test func fieldLookups() throws {
        let parsed = try #require(
            head(parseRequest("GET / HTTP/1.1\r\nhost: H\r\nCookie: a=1\r\nX-Request-ID: abc\r\nX-Custom: v\r\n\r\n")))
        #expect(parsed.firstValue(.cookie) == "a=1")
        #expect(parsed.firstValue(.xRequestID) == "abc")
        #expect(parsed.firstValue(named: "x-CUSTOM") == "v")
        #expect(parsed.firstValue(named: "missing") == nil)
        #expect(parsed.fields.map(\.known) == [.host, .cookie, .xRequestID, .other])
    }
}
