import Testing

@testable import GatewayHTTP

@Suite struct PathNormalizerTests {
    let normalizer = PathNormalizer()

    private func normal(_ path: String, merge: Bool = true) throws -> String {
        try PathNormalizer(mergeSlashes: merge).normalize(path)
    }

    @Test func normalPathsPassUnchanged() throws {
        for path in ["/", "/api/v1/users", "/a/b/", "/a.b/c.d", "/x%2Fy", "/caf%C3%A9", "/a;b=c"] {
            #expect(try normal(path) == path)
        }
    }

    @Test func dotSegmentsAreRemoved() throws {
        #expect(try normal("/n/x/../admin/secret") == "/n/admin/secret")
        #expect(try normal("/a/./b") == "/a/b")
        #expect(try normal("/a/b/..") == "/a/")
        #expect(try normal("/a/b/.") == "/a/b/")
        #expect(try normal("/a/..") == "/")
        #expect(try normal("/./") == "/")
        #expect(try normal("/a/b/../../c") == "/c")
        // Not dot segments: dots inside a name.
        #expect(try normal("/a/..b/.c/...") == "/a/..b/.c/...")
    }

    @Test func encodedDotsAreDotSegments() throws {
        #expect(try normal("/n/x/%2e%2e/admin/secret") == "/n/admin/secret")
        #expect(try normal("/n/x/%2E./admin/secret") == "/n/admin/secret")
        #expect(try normal("/n/x/.%2e/admin/secret") == "/n/admin/secret")
        #expect(try normal("/n/x/%2e/admin") == "/n/x/admin")
    }

    @Test func climbingAboveTheRootIsAnError() {
        #expect(throws: PathNormalizationError.aboveRoot) { try normal("/..") }
        #expect(throws: PathNormalizationError.aboveRoot) { try normal("/api/v1/../../../admin/secret") }
        #expect(throws: PathNormalizationError.aboveRoot) { try normal("/%2e%2e/etc/passwd") }
        #expect(throws: PathNormalizationError.aboveRoot) { try normal("/a/../../b") }
    }

    @Test func theIssueVectorStaysBelowTheRoot() throws {
        // /api/v1/../../admin/secret climbs to /admin/secret: inside the root, so it is routed as that.
        #expect(try normal("/api/v1/../../admin/secret") == "/admin/secret")
    }

    @Test func unreservedEscapesAreDecodedOthersKeptUppercased() throws {
        #expect(try normal("/%61dmin/%7Euser") == "/admin/~user")
        #expect(try normal("/a%2fb") == "/a%2Fb")
        #expect(try normal("/a%20b") == "/a%20b")
        #expect(try normal("/caf%c3%a9") == "/caf%C3%A9")
    }

    @Test func encodedSlashNeverSplitsSegments() throws {
        #expect(try normal("/a/..%2F..%2Fadmin") == "/a/..%2F..%2Fadmin")
        #expect(try normal("/a%2F..%2Fb/../c") == "/c")
    }

    @Test func slashesMergeUnlessDisabled() throws {
        #expect(try normal("//admin//secret") == "/admin/secret")
        #expect(try normal("/a//") == "/a/")
        #expect(try normal("//") == "/")
        #expect(try normal("//admin//secret", merge: false) == "//admin//secret")
        #expect(try normal("/a//..", merge: false) == "/a/")
        #expect(try normal("/a//../b") == "/b")
    }

    @Test func malformedEscapesAreErrors() {
        #expect(throws: PathNormalizationError.badPercentEncoding) { try normal("/a%2") }
        #expect(throws: PathNormalizationError.badPercentEncoding) { try normal("/a%zz") }
        #expect(throws: PathNormalizationError.badPercentEncoding) { try normal("/%") }
        #expect(throws: PathNormalizationError.encodedNul) { try normal("/a%00b") }
    }

    @Test func pathsMustBeAbsolute() {
        #expect(throws: PathNormalizationError.notAbsolute) { try normal("") }
        #expect(throws: PathNormalizationError.notAbsolute) { try normal("a/b") }
    }
}

@Suite struct RequestTargetTests {
    @Test func originForm() throws {
        #expect(try RequestTarget.parse("/a/b?x=1") == RequestTarget(form: .origin, path: "/a/b", query: "x=1"))
        #expect(try RequestTarget.parse("/a?") == RequestTarget(form: .origin, path: "/a", query: ""))
    }

    @Test func fragmentIsDropped() throws {
        #expect(try RequestTarget.parse("/a/b#frag") == RequestTarget(form: .origin, path: "/a/b"))
        #expect(try RequestTarget.parse("/a?x=1#frag?y") == RequestTarget(form: .origin, path: "/a", query: "x=1"))
    }

    @Test func absoluteForm() throws {
        #expect(
            try RequestTarget.parse("http://example.com:8080/api/v1/x?q=1")
                == RequestTarget(form: .absolute, path: "/api/v1/x", query: "q=1", authority: "example.com:8080"))
        #expect(
            try RequestTarget.parse("HTTP://example.com") == RequestTarget(form: .absolute, path: "/", authority: "example.com"))
        #expect(
            try RequestTarget.parse("https://h?q") == RequestTarget(form: .absolute, path: "/", query: "q", authority: "h"))
        #expect(throws: RequestTargetError.unsupportedScheme("ftp")) { try RequestTarget.parse("ftp://h/x") }
        #expect(throws: RequestTargetError.malformed) { try RequestTarget.parse("http:///x") }
    }

    @Test func authorityAndAsteriskForms() throws {
        #expect(try RequestTarget.parse("example.com:443") == RequestTarget(form: .authority, path: "", authority: "example.com:443"))
        #expect(try RequestTarget.parse("*").form == .asterisk)
        #expect(throws: RequestTargetError.malformed) { try RequestTarget.parse("index.html") }
        #expect(throws: RequestTargetError.empty) { try RequestTarget.parse("#x") }
    }
}
