import Testing

@testable import GatewayTLS

@Suite struct SNIMatcherTests {
    let matcher = SNIMatcher(names: [["site.example", "www.site.example"], ["api.example", "*.api.example"], ["*.example.org"]])

    @Test func exactNamesPickTheirCertificate() {
        #expect(matcher.index(for: "site.example") == 0)
        #expect(matcher.index(for: "WWW.Site.Example") == 0)
        #expect(matcher.index(for: "api.example") == 1)
        #expect(matcher.index(for: "api.example.") == 1)
    }

    @Test func wildcardsMatchOneLabel() {
        #expect(matcher.index(for: "v2.api.example") == 1)
        // Two labels in place of `*`: *.api.example does not match → the default.
        #expect(matcher.index(for: "a.b.api.example") == 0)
        #expect(matcher.index(for: "other.example.org") == 2)
        #expect(matcher.index(for: "x.other.example.org") == 0)
    }

    @Test func exactBeatsWildcardWhateverTheOrder() {
        let m = SNIMatcher(names: [["*.example.org"], ["a.example.org"]])
        #expect(m.index(for: "a.example.org") == 1)
        #expect(m.index(for: "b.example.org") == 0)
    }

    @Test func noSNIOrNoMatchIsTheDefault() {
        #expect(matcher.index(for: nil) == 0)
        #expect(matcher.index(for: "") == 0)
        #expect(matcher.index(for: "unknown.test") == 0)
        #expect(matcher.index(for: "example") == 0)
        // A wildcard never matches the bare parent or an empty label.
        #expect(SNIMatcher(names: [["x.test"], ["*.example.org"]]).index(for: "example.org") == 0)
        #expect(SNIMatcher(names: [["x.test"], ["*.example.org"]]).index(for: ".example.org") == 0)
        // `*.org`-style wildcards covering a whole public suffix are refused.
        #expect(SNIMatcher(names: [["x.test"], ["*.org"]]).index(for: "example.org") == 0)
    }

    @Test func wildcardHelper() {
        #expect(SNIMatcher.wildcard("*.a.b", matches: "x.a.b"))
        #expect(!SNIMatcher.wildcard("*.a.b", matches: "a.b"))
        #expect(!SNIMatcher.wildcard("a.b", matches: "x.a.b"))
        #expect(!SNIMatcher.wildcard("*.a.b", matches: "x.y.a.b"))
    }
}
