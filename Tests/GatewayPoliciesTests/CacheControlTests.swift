import Testing

@testable import GatewayPolicies

@Suite struct CacheControlTests {
    @Test func parsesTheDirectivesASharedCacheUses() {
        let cc = CacheControl(["public, max-age=60, s-maxage=30", "stale-while-revalidate=5, stale-if-error=300"])
        #expect(cc.isPublic)
        #expect(cc.maxAge == 60)
        #expect(cc.sMaxAge == 30)
        #expect(cc.staleWhileRevalidate == 5)
        #expect(cc.staleIfError == 300)
        #expect(!cc.noStore && !cc.noCache && !cc.isPrivate)
    }

    @Test func flagsAreCaseInsensitive() {
        let cc = CacheControl(["No-Store, PRIVATE, No-Cache, Must-Revalidate, proxy-revalidate"])
        #expect(cc.noStore && cc.isPrivate && cc.noCache && cc.mustRevalidate && cc.proxyRevalidate)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var value: String
        var maxAge: Int?
        var testDescription: String { value }
    }

    /// RFC 9111 §4.2.1 / §1.2.2: an invalid delta-seconds makes the response stale (0); parsing never fails.
    @Test(arguments: [
        Malformed(value: "max-age=abc", maxAge: 0),
        Malformed(value: "max-age=", maxAge: 0),
        Malformed(value: "max-age", maxAge: 0),
        Malformed(value: "max-age=-5", maxAge: 0),
        Malformed(value: "max-age=1.5", maxAge: 0),
        Malformed(value: "max-age=\"60\"", maxAge: 60),
        Malformed(value: "max-age = 60", maxAge: 60),
        Malformed(value: "max-age=99999999999999999999", maxAge: 2_147_483_648),
        Malformed(value: "max-age=60, max-age=10", maxAge: 10),
        Malformed(value: ",,, ,", maxAge: nil),
        Malformed(value: "", maxAge: nil),
        Malformed(value: "=60", maxAge: nil),
        Malformed(value: "foo=\"a, max-age=1\", max-age=30", maxAge: 30),
        Malformed(value: "foo=\"unterminated, max-age=1", maxAge: nil),
        Malformed(value: "\u{00e9}t\u{00e9}=1, max-age=7", maxAge: 7),
    ])
    func malformedInputNeverCrashes(_ c: Malformed) {
        #expect(CacheControl([c.value]).maxAge == c.maxAge)
    }

    @Test func quotedArgumentsKeepTheirCommas() {
        let parts = CacheControl.directives("no-cache=\"Set-Cookie, X-Foo\", max-age=5")
        #expect(parts.count == 2)
        #expect(parts[0].0 == "no-cache" && parts[0].1 == "Set-Cookie, X-Foo")
        #expect(CacheControl(["no-cache=\"Set-Cookie\""]).noCache)
    }
}
