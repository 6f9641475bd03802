import NIOCore
import Testing

@testable import GatewayPolicies

@Suite struct CacheRulesTests {
    struct Storable: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "GET"
        var status = 200
        var response: [String] = []
        var request: [String] = []
        var authorization = false
        var setCookie = false
        var storeSetCookie = false
        var vary: [String] = []
        var expected: CacheRules.NotStorable?
        var testDescription: String { name }
    }

    /// RFC 9111 §3 as a table.
    @Test(arguments: [
        Storable(name: "plain 200", expected: nil),
        Storable(name: "HEAD", method: "HEAD", expected: .method),
        Storable(name: "POST", method: "POST", expected: .method),
        Storable(name: "404 heuristically cacheable", status: 404, expected: nil),
        Storable(name: "500", status: 500, expected: .status),
        Storable(name: "206", status: 206, expected: .status),
        Storable(name: "302", status: 302, expected: .status),
        Storable(name: "no-store", response: ["no-store"], expected: .noStore),
        Storable(name: "private", response: ["private, max-age=60"], expected: .isPrivate),
        Storable(name: "request no-store", request: ["no-store"], expected: .requestNoStore),
        Storable(name: "authorization", authorization: true, expected: .authorization),
        Storable(name: "authorization + public", response: ["public"], authorization: true, expected: nil),
        Storable(name: "authorization + s-maxage", response: ["s-maxage=5"], authorization: true, expected: nil),
        Storable(name: "authorization + must-revalidate", response: ["must-revalidate"], authorization: true, expected: nil),
        Storable(name: "set-cookie", setCookie: true, expected: .setCookie),
        Storable(name: "set-cookie allowed", setCookie: true, storeSetCookie: true, expected: nil),
        Storable(name: "vary *", vary: ["*"], expected: .varyStar),
        Storable(name: "vary accept-language", vary: ["accept-language"], expected: nil),
        Storable(name: "no-cache is stored", response: ["no-cache"], expected: nil),
    ])
    func storability(_ c: Storable) {
        let reason = CacheRules.notStorable(
            method: c.method, status: c.status, response: CacheControl(c.response), request: CacheControl(c.request),
            requestHasAuthorization: c.authorization, hasSetCookie: c.setCookie, storeSetCookie: c.storeSetCookie,
            varyNames: c.vary)
        #expect(reason == c.expected)
    }

    static let date = "Wed, 02 Dec 2026 10:00:00 GMT"
    static let dateSeconds = HTTPDateParser.parse(date)!

    struct Lifetime: Sendable, CustomTestStringConvertible {
        var name: String
        var cc: [String] = []
        var expires: String? = nil
        var expected: Double
        var testDescription: String { name }
    }

    /// RFC 9111 §4.2.1: s-maxage, then max-age, then Expires - Date, then the route's ttl.
    @Test(arguments: [
        Lifetime(name: "ttl", expected: 60),
        Lifetime(name: "max-age", cc: ["max-age=10"], expected: 10),
        Lifetime(name: "s-maxage wins", cc: ["max-age=10, s-maxage=20"], expected: 20),
        Lifetime(name: "expires", expires: "Wed, 02 Dec 2026 10:00:30 GMT", expected: 30),
        Lifetime(name: "max-age beats expires", cc: ["max-age=5"], expires: "Wed, 02 Dec 2026 10:00:30 GMT", expected: 5),
        Lifetime(name: "invalid expires is expired", expires: "0", expected: 0),
        Lifetime(name: "past expires", expires: "Wed, 02 Dec 2026 09:00:00 GMT", expected: 0),
        Lifetime(name: "no-cache", cc: ["no-cache, max-age=60"], expected: 0),
    ])
    func freshnessLifetime(_ c: Lifetime) {
        let lifetime = CacheRules.freshnessLifetime(
            CacheControl(c.cc), expires: c.expires, date: Self.date, receivedAt: Self.dateSeconds, ttl: 60)
        #expect(lifetime == c.expected)
    }

    func entry(_ headers: [(String, String)], storedAt: Double = 1000, initialAge: Double = 0) -> CacheEntry {
        CacheEntry(
            status: 200, headers: headers.map { .init($0.0, $0.1) }, body: ByteBuffer(string: "x"), storedAt: storedAt,
            initialAge: initialAge)
    }

    struct Decision: Sendable, CustomTestStringConvertible {
        var name: String
        var cc: String
        var age: Double
        var windows = CacheRules.Windows(ttl: 60)
        var expected: CacheRules.Freshness
        var testDescription: String { name }
    }

    @Test(arguments: [
        Decision(name: "fresh", cc: "max-age=10", age: 5, expected: .fresh),
        Decision(name: "just stale", cc: "max-age=10", age: 10, expected: .revalidate(staleIfError: false)),
        Decision(name: "route swr", cc: "max-age=10", age: 15, windows: .init(ttl: 60, staleWhileRevalidate: 30), expected: .staleWhileRevalidate),
        Decision(name: "response swr", cc: "max-age=10, stale-while-revalidate=30", age: 15, expected: .staleWhileRevalidate),
        Decision(name: "past swr", cc: "max-age=10, stale-while-revalidate=3", age: 15, expected: .revalidate(staleIfError: false)),
        Decision(name: "route sie", cc: "max-age=10", age: 100, windows: .init(ttl: 60, staleIfError: 300), expected: .revalidate(staleIfError: true)),
        Decision(name: "response sie", cc: "max-age=10, stale-if-error=300", age: 100, expected: .revalidate(staleIfError: true)),
        Decision(name: "past sie", cc: "max-age=10, stale-if-error=30", age: 100, expected: .revalidate(staleIfError: false)),
        Decision(name: "must-revalidate forbids stale", cc: "max-age=10, must-revalidate, stale-if-error=300", age: 15, windows: .init(ttl: 60, staleWhileRevalidate: 30, staleIfError: 300), expected: .revalidate(staleIfError: false)),
        Decision(name: "proxy-revalidate forbids stale", cc: "max-age=10, proxy-revalidate", age: 15, windows: .init(ttl: 60, staleWhileRevalidate: 30), expected: .revalidate(staleIfError: false)),
        Decision(name: "s-maxage forbids stale", cc: "s-maxage=10", age: 15, windows: .init(ttl: 60, staleWhileRevalidate: 30), expected: .revalidate(staleIfError: false)),
        Decision(name: "no-cache always revalidates", cc: "no-cache", age: 0, expected: .revalidate(staleIfError: false)),
        Decision(name: "ttl when silent", cc: "", age: 59, expected: .fresh),
    ])
    func freshnessDecision(_ c: Decision) {
        let stored = entry(c.cc.isEmpty ? [] : [("Cache-Control", c.cc)], storedAt: 1000)
        #expect(CacheRules.freshness(of: stored, at: 1000 + c.age, windows: c.windows) == c.expected)
    }

    @Test func ageCountsTheUpstreamsAgeAndTheTrip() {
        // Age: 10 from upstream, 2 s round trip → 12
        #expect(CacheRules.initialAge(ageHeader: "10", date: nil, requestTime: 100, responseTime: 102) == 12)
        // Date 30 s in the past → apparent age 30 wins
        let now = Self.dateSeconds + 30
        #expect(CacheRules.initialAge(ageHeader: nil, date: Self.date, requestTime: now, responseTime: now) == 30)
        #expect(CacheRules.initialAge(ageHeader: "junk", date: "junk", requestTime: 5, responseTime: 5) == 0)
        #expect(entry([], storedAt: 100, initialAge: 12).age(at: 110) == 22)
    }

    @Test func conditionalRequests() {
        let stored = entry([("ETag", "\"v1\""), ("Last-Modified", Self.date)])
        #expect(CacheRules.notModified(ifNoneMatch: ["\"v1\""], ifModifiedSince: nil, entry: stored))
        #expect(CacheRules.notModified(ifNoneMatch: ["W/\"v1\""], ifModifiedSince: nil, entry: stored))
        #expect(CacheRules.notModified(ifNoneMatch: ["\"a\", \"v1\""], ifModifiedSince: nil, entry: stored))
        #expect(CacheRules.notModified(ifNoneMatch: ["*"], ifModifiedSince: nil, entry: stored))
        #expect(!CacheRules.notModified(ifNoneMatch: ["\"v2\""], ifModifiedSince: Self.date, entry: stored))
        #expect(CacheRules.notModified(ifNoneMatch: [], ifModifiedSince: Self.date, entry: stored))
        #expect(!CacheRules.notModified(ifNoneMatch: [], ifModifiedSince: "Tue, 01 Dec 2026 10:00:00 GMT", entry: stored))
        #expect(!CacheRules.notModified(ifNoneMatch: [], ifModifiedSince: "garbage", entry: stored))
        #expect(!CacheRules.notModified(ifNoneMatch: ["\"v1\""], ifModifiedSince: nil, entry: entry([])))
    }

    @Test func retentionCoversTheStaleWindows() {
        let stored = entry([("Cache-Control", "max-age=10")])
        #expect(CacheRules.retention(of: stored, windows: .init(ttl: 60, staleWhileRevalidate: 30, staleIfError: 300)) == 310)
        #expect(CacheRules.retention(of: entry([("Cache-Control", "max-age=10"), ("ETag", "\"x\"")]), windows: .init(ttl: 60)) == 60)
    }

    @Test func httpDates() {
        #expect(HTTPDateParser.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDateParser.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDateParser.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        for bad in ["", "0", "-1", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 32 Nov 1994 08:49:37 GMT",
                    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT"] {
            #expect(HTTPDateParser.parse(bad) == nil, "\(bad)")
        }
        #expect(HTTPDateParser.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
