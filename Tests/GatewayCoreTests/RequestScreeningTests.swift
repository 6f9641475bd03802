import GatewayConfig
import NIOHTTP1
import Testing

@testable import GatewayCore

/// `RequestScreening` maps the pure GatewayHTTP rules onto decoded heads (SPEC §13).
@Suite struct RequestScreeningTests {
    let snapshot = GatewaySnapshot(configuration: GatewayConfiguration(), version: 1)

    func screen(
        _ uri: String, _ headers: [(String, String)] = [("Host", "h")], method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1, snapshot: GatewaySnapshot? = nil
    ) -> RequestScreening.Outcome {
        RequestScreening.screen(
            HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers)),
            snapshot: snapshot ?? self.snapshot, listenerAuthority: { "127.0.0.1:8080" })
    }

    func accepted(_ outcome: RequestScreening.Outcome) -> RequestScreening.Accepted? {
        if case .accepted(let accepted) = outcome { return accepted }
        return nil
    }

    func status(_ outcome: RequestScreening.Outcome) -> UInt? {
        if case .rejected(let problem) = outcome { return problem.status.code }
        return nil
    }

    @Test func aNormalRequestIsUntouched() throws {
        let out = try #require(accepted(screen("/a/b?x=1", [("Host", "h"), ("Accept", "*/*")])))
        #expect(out.head.uri == "/a/b?x=1")
        #expect(out.path == "/a/b")
        #expect(out.query == "x=1")
        #expect(out.head.headers.count == 2)
    }

    @Test func pathIsNormalisedAndFragmentDropped() throws {
        let out = try #require(accepted(screen("/n/x/%2e%2e/admin//secret?q=..#frag")))
        #expect(out.path == "/n/admin/secret")
        #expect(out.head.uri == "/n/admin/secret?q=..")
    }

    @Test func rejections() {
        #expect(status(screen("/..")) == 400)
        #expect(status(screen("/x", [])) == 400)
        #expect(status(screen("/x", [("Host", "a b")])) == 400)
        #expect(status(screen("h:443", method: .CONNECT)) == 405)
        #expect(status(screen("h:443")) == 400)
        #expect(status(screen("/" + String(repeating: "a", count: 9000))) == 414)
        #expect(status(screen("/x", [("Host", "h"), ("Transfer-Encoding", "gzip, chunked")], method: .POST)) == 501)
        #expect(status(screen("/x", [("Host", "h"), ("Content-Length", "1"), ("Content-Length", "2")])) == 400)
    }

    @Test func headersAreCleaned() throws {
        let out = try #require(accepted(screen("/x", [
            ("Host", "h"), ("X_Gateway_User", "admin"), ("X-Gateway-User", "admin"), ("X_Custom", "1"),
            ("Content-Length", "005"), ("X-Ok", "1"),
        ], method: .POST)))
        #expect(out.head.headers.map(\.name) == ["Host", "X-Ok", "Content-Length"])
        #expect(out.head.headers.first(name: "content-length") == "5")
    }

    @Test func hostFromTheTargetOrTheListener() throws {
        let absolute = try #require(accepted(screen("http://api.example/api/x", [("Host", "other")])))
        #expect(absolute.path == "/api/x")
        #expect(absolute.head.uri == "/api/x")
        #expect(absolute.head.headers[canonicalForm: "host"] == ["api.example"])
        let old = try #require(accepted(screen("/x", [], version: .http1_0)))
        #expect(old.head.headers.first(name: "host") == "127.0.0.1:8080")
    }

    @Test func underscoresAndSlashesFollowTheConfig() throws {
        var configuration = GatewayConfiguration()
        configuration.server.underscoresInHeaders = true
        configuration.server.mergeSlashes = false
        let relaxed = GatewaySnapshot(configuration: configuration, version: 1)
        let out = try #require(accepted(screen("//a//b", [("Host", "h"), ("X_Custom", "1"), ("X_Gateway_User", "x")],
                                               snapshot: relaxed)))
        #expect(out.path == "//a//b")
        #expect(out.head.headers.map(\.name) == ["Host", "X_Custom"])
    }
}
