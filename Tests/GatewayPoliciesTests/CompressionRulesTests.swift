import GatewayConfig
import NIOHTTP1
import Testing

@testable import GatewayPolicies

@Suite struct AcceptEncodingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var header: [String]
        var accepts: Bool
        var prefers: Bool
        var testDescription: String { header.description }
    }

    @Test(arguments: [
        Case(header: [], accepts: false, prefers: false),
        Case(header: [""], accepts: false, prefers: false),
        Case(header: ["gzip"], accepts: true, prefers: true),
        Case(header: ["GZIP, deflate, br"], accepts: true, prefers: true),
        Case(header: ["x-gzip"], accepts: true, prefers: true),
        Case(header: ["gzip;q=0"], accepts: false, prefers: false),
        Case(header: ["gzip; q=0.000"], accepts: false, prefers: false),
        Case(header: ["gzip;q=0.5, identity;q=1"], accepts: true, prefers: false),
        Case(header: ["gzip;q=0.5, identity;q=0"], accepts: true, prefers: true),
        Case(header: ["*"], accepts: true, prefers: true),
        Case(header: ["*;q=0"], accepts: false, prefers: false),
        Case(header: ["*;q=0.3, gzip;q=0"], accepts: false, prefers: false),
        Case(header: ["br", "gzip;q=0.8"], accepts: true, prefers: false),
        Case(header: ["deflate"], accepts: false, prefers: false),
        Case(header: ["gzip;q=2"], accepts: false, prefers: false),
        Case(header: ["identity;q=0, *"], accepts: true, prefers: true),
    ])
    func parse(_ c: Case) {
        let parsed = AcceptEncoding(headerValues: c.header)
        #expect(parsed.acceptsGzip == c.accepts)
        #expect(parsed.prefersGzip == c.prefers)
    }

    @Test func qualityValues() {
        #expect(AcceptEncoding.parseQuality("1") == 1000)
        #expect(AcceptEncoding.parseQuality("1.000") == 1000)
        #expect(AcceptEncoding.parseQuality("0.25") == 250)
        #expect(AcceptEncoding.parseQuality("0.") == 0)
        #expect(AcceptEncoding.parseQuality("1.5") == nil)
        #expect(AcceptEncoding.parseQuality("0.1234") == nil)
        #expect(AcceptEncoding.parseQuality("abc") == nil)
    }
}

@Suite struct CompressionRulesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPMethod = .GET
        var accept: [String] = ["gzip"]
        var status: Int = 200
        var headers: [(String, String)] = [("Content-Type", "text/html")]
        var expected: CompressionRules.Decision
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "html", expected: .compress),
        Case(name: "no accept-encoding", accept: [], expected: .skip(.clientDoesNotAcceptGzip)),
        Case(name: "gzip refused", accept: ["gzip;q=0"], expected: .skip(.clientDoesNotAcceptGzip)),
        Case(name: "HEAD", method: .HEAD, expected: .skip(.headRequest)),
        Case(name: "204", status: 204, expected: .skip(.statusWithoutBody)),
        Case(name: "304", status: 304, expected: .skip(.statusWithoutBody)),
        Case(name: "101", status: 101, expected: .skip(.statusWithoutBody)),
        Case(name: "206", status: 206, expected: .skip(.partialContent)),
        Case(name: "404 html", status: 404, expected: .compress),
        Case(name: "already br", headers: [("Content-Type", "text/html"), ("Content-Encoding", "br")], expected: .skip(.alreadyEncoded)),
        Case(name: "identity encoding", headers: [("Content-Type", "text/html"), ("Content-Encoding", "identity")], expected: .compress),
        Case(name: "no-transform", headers: [("Content-Type", "text/html"), ("Cache-Control", "public, No-Transform")], expected: .skip(.noTransform)),
        Case(name: "small", headers: [("Content-Type", "text/html"), ("Content-Length", "1023")], expected: .skip(.tooSmall)),
        Case(name: "exactly min", headers: [("Content-Type", "text/html"), ("Content-Length", "1024")], expected: .compress),
        Case(name: "json charset", headers: [("Content-Type", "application/json; charset=utf-8")], expected: .compress),
        Case(name: "problem+json", headers: [("Content-Type", "application/problem+json")], expected: .compress),
        Case(name: "atom+xml", headers: [("Content-Type", "Application/Atom+XML")], expected: .compress),
        Case(name: "svg", headers: [("Content-Type", "image/svg+xml")], expected: .compress),
        Case(name: "js", headers: [("Content-Type", "application/javascript")], expected: .compress),
        Case(name: "png", headers: [("Content-Type", "image/png")], expected: .skip(.typeNotCompressible)),
        Case(name: "octet", headers: [("Content-Type", "application/octet-stream")], expected: .skip(.typeNotCompressible)),
        Case(name: "no type", headers: [], expected: .skip(.typeNotCompressible)),
        Case(name: "textual family only", headers: [("Content-Type", "textx/plain")], expected: .skip(.typeNotCompressible)),
    ]

    @Test(arguments: cases)
    func decide(_ c: Case) {
        var headers = HTTPHeaders()
        for (name, value) in c.headers { headers.add(name: name, value: value) }
        let decision = CompressionRules.decide(
            settings: CompressionSettings(), requestMethod: c.method, acceptEncoding: c.accept,
            status: HTTPResponseStatus(statusCode: c.status), responseHeaders: headers)
        #expect(decision == c.expected)
    }

    @Test func disabledWithoutSettings() {
        let decision = CompressionRules.decide(
            settings: nil, requestMethod: .GET, acceptEncoding: ["gzip"], status: .ok,
            responseHeaders: ["Content-Type": "text/plain"])
        #expect(decision == .skip(.disabled))
    }

    @Test func customTypes() {
        #expect(CompressionRules.isCompressible(contentType: "application/wasm", types: ["application/wasm"]))
        #expect(!CompressionRules.isCompressible(contentType: "text/html", types: ["application/wasm"]))
        #expect(CompressionRules.isCompressible(contentType: "anything/else", types: ["*/*"]))
    }

    @Test func applyHeaders() {
        var headers: HTTPHeaders = ["Content-Type": "text/html", "Content-Length": "5000", "ETag": "\"abc\""]
        CompressionRules.applyHeaders(to: &headers)
        #expect(headers["content-length"].isEmpty)
        #expect(headers["content-encoding"] == ["gzip"])
        #expect(headers["vary"] == ["Accept-Encoding"])
        #expect(headers["etag"] == ["W/\"abc\""])
    }

    @Test func varyMergesWithoutDuplicates() {
        var existing: HTTPHeaders = ["Vary": "Origin", "ETag": "W/\"weak\""]
        CompressionRules.applyHeaders(to: &existing)
        #expect(existing["vary"] == ["Origin, Accept-Encoding"])
        #expect(existing["etag"] == ["W/\"weak\""])

        var already: HTTPHeaders = ["Vary": "origin, accept-encoding"]
        CompressionRules.applyHeaders(to: &already)
        #expect(already["vary"] == ["origin, accept-encoding"])

        var star: HTTPHeaders = ["Vary": "*"]
        CompressionRules.applyHeaders(to: &star)
        #expect(star["vary"] == ["*"])
    }
}
