import Foundation
import Testing

@testable import GatewayCore

/// The pure parts of static routes: path resolution (traversal), ranges, conditions, types, dates.
@Suite struct StaticFilesLogicTests {
    @Test func pathsBelowTheRoot() {
        #expect(StaticPath.resolve("/") == .ok(segments: [], directory: true))
        #expect(StaticPath.resolve("/a/b.txt") == .ok(segments: ["a", "b.txt"], directory: false))
        #expect(StaticPath.resolve("/docs/") == .ok(segments: ["docs"], directory: true))
        #expect(StaticPath.resolve("/a//./b%20c") == .ok(segments: ["a", "b c"], directory: false))
    }

    @Test(arguments: [
        "/../x", "/a/../../x", "/%2e%2e/x", "/%2E%2e/x", "/a/%2e%2e%2fx", "/..%2fx", "/..%5cx", "/%00", "/a%zz", "/%e2%28",
        "relative",
    ])
    func traversalAndMalformedPathsAreRefused(path: String) {
        guard case .refused = StaticPath.resolve(path) else {
            Issue.record("\(path) was not refused: \(StaticPath.resolve(path))")
            return
        }
    }

    @Test func extensions() {
        #expect(StaticPath.hasExtension(["a", "app.js"]))
        #expect(!StaticPath.hasExtension(["settings"]))
        #expect(!StaticPath.hasExtension([".hidden"]))
        #expect(!StaticPath.hasExtension(["trailing."]))
        #expect(!StaticPath.hasExtension([]))
    }

    @Test func ranges() {
        #expect(StaticRange.parse(nil, size: 100) == .whole)
        #expect(StaticRange.parse("bytes=0-9", size: 100) == .partial(start: 0, end: 9))
        #expect(StaticRange.parse("bytes=90-", size: 100) == .partial(start: 90, end: 99))
        #expect(StaticRange.parse("bytes=-10", size: 100) == .partial(start: 90, end: 99))
        #expect(StaticRange.parse("bytes=-500", size: 100) == .partial(start: 0, end: 99))
        #expect(StaticRange.parse("bytes=50-5000", size: 100) == .partial(start: 50, end: 99))
        #expect(StaticRange.parse("bytes=100-", size: 100) == .unsatisfiable)
        #expect(StaticRange.parse("bytes=9-3", size: 100) == .unsatisfiable)
        #expect(StaticRange.parse("bytes=-0", size: 100) == .unsatisfiable)
        #expect(StaticRange.parse("bytes=x-3", size: 100) == .unsatisfiable)
        #expect(StaticRange.parse("bytes=+1-3", size: 100) == .unsatisfiable)
        #expect(StaticRange.parse("bytes=0-1,3-4", size: 100) == .whole)
        #expect(StaticRange.parse("items=0-1", size: 100) == .whole)
        #expect(StaticRange.parse("bytes=0-0", size: 0) == .unsatisfiable)
    }

    @Test func conditions() {
        let etag = "\"5f-10\""
        #expect(StaticConditions.notModified(ifNoneMatch: etag, ifModifiedSince: nil, etag: etag, modified: 0))
        #expect(StaticConditions.notModified(ifNoneMatch: "W/\(etag)", ifModifiedSince: nil, etag: etag, modified: 0))
        #expect(StaticConditions.notModified(ifNoneMatch: "\"x\", *", ifModifiedSince: nil, etag: etag, modified: 0))
        #expect(!StaticConditions.notModified(ifNoneMatch: "\"x\"", ifModifiedSince: "Thu, 01 Jan 2099 00:00:00 GMT", etag: etag, modified: 0))
        #expect(StaticConditions.notModified(ifNoneMatch: nil, ifModifiedSince: "Thu, 01 Jan 1970 00:00:10 GMT", etag: etag, modified: 10))
        #expect(!StaticConditions.notModified(ifNoneMatch: nil, ifModifiedSince: "Thu, 01 Jan 1970 00:00:09 GMT", etag: etag, modified: 10))
        #expect(!StaticConditions.notModified(ifNoneMatch: nil, ifModifiedSince: "yesterday", etag: etag, modified: 10))
        #expect(StaticConditions.rangeApplies(ifRange: nil, etag: etag, lastModified: "x"))
        #expect(StaticConditions.rangeApplies(ifRange: etag, etag: etag, lastModified: "x"))
        #expect(!StaticConditions.rangeApplies(ifRange: "W/\(etag)", etag: etag, lastModified: "x"))
        #expect(!StaticConditions.rangeApplies(ifRange: "Thu, 01 Jan 1970 00:00:09 GMT", etag: etag, lastModified: "x"))
    }

    @Test func typesAndDates() {
        #expect(MIMETypes.type(forFileName: "/x/app.JS") == "text/javascript; charset=utf-8")
        #expect(MIMETypes.type(forFileName: "/x/README") == "application/octet-stream")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_205_795) == "Wed, 02 Dec 2026 10:03:15 GMT")
        #expect(HTTPDate.parse("Wed, 02 Dec 2026 10:03:15 GMT") == 1_796_205_795)
        #expect(HTTPDate.parse("Wednesday, 02-Dec-26 10:03:15 GMT") == nil)
        let now = HTTPDate.now()
        #expect(now.hasSuffix(" GMT") && HTTPDate.parse(now) != nil)
    }

    @Test func accessRecordFormats() {
        var record = AccessRecord(
            time: timespec(tv_sec: 1_796_205_795, tv_nsec: 7_000_000), requestID: "r1", clientIP: "10.0.0.1",
            method: "GET", uri: "/a?b=\"c\"", route: "api", status: 200, durationMs: 1.5, bytesIn: 0, bytesOut: 12,
            attempts: 1, userAgent: "curl/8\u{01}")
        #expect(
            record.combinedLine()
                == #"10.0.0.1 - - [02/Dec/2026:10:03:15 +0000] "GET /a?b=\x22c\x22 HTTP/1.1" 200 12 "-" "curl/8\x01""#)
        record.error = "cannot connect"
        record.event = "close"
        #expect(
            record.jsonLine()
                == #"{"attempts":1,"bytes_in":0,"bytes_out":12,"client_ip":"10.0.0.1","duration_ms":1.5,"error":"cannot connect","event":"close","method":"GET","protocol":"HTTP/1.1","request_id":"r1","route":"api","status":200,"time":"2026-12-02T10:03:15.007Z","uri":"/a?b=\"c\""}"#)
    }

    @Test func operatorLogLines() {
        let line = OperatorLogHandler.render(
            level: .warning, message: "health changed\nnext", metadata: ["b": "two words", "a": "x=y", "c": "plain"],
            time: timespec(tv_sec: 0, tv_nsec: 0))
        #expect(line == #"1970-01-01T00:00:00.000Z warning health changed\nnext a="x=y" b="two words" c=plain"#)
    }
}
