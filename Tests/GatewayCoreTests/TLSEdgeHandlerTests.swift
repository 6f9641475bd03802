import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite struct HTTPSRedirectTests {
    func head(_ uri: String, host: String?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let host { headers.add(name: "Host", value: host) }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
    }

    @Test func keepsHostPathAndQuery() {
        #expect(HTTPSRedirectHandler.location(for: head("/a/b?x=1&y", host: "example.com:8080"), port: 8443)
            == "https://example.com:8443/a/b?x=1&y")
        #expect(HTTPSRedirectHandler.location(for: head("/", host: "example.com"), port: 443) == "https://example.com/")
        #expect(HTTPSRedirectHandler.location(for: head("/p", host: "[::1]:8080"), port: 8443) == "https://[::1]:8443/p")
        #expect(HTTPSRedirectHandler.location(for: head("http://example.com/abs?q", host: "example.com"), port: 8443)
            == "https://example.com:8443/abs?q")
    }

    @Test func refusesHostsThatCouldRedirectElsewhere() {
        #expect(HTTPSRedirectHandler.location(for: head("/", host: nil), port: 8443) == nil)
        #expect(HTTPSRedirectHandler.location(for: head("/", host: ""), port: 8443) == nil)
        #expect(HTTPSRedirectHandler.location(for: head("/", host: "evil.com/x"), port: 8443) == nil)
        #expect(HTTPSRedirectHandler.location(for: head("/", host: "user@evil.com"), port: 8443) == nil)
        #expect(HTTPSRedirectHandler.location(for: head("/", host: "[::1"), port: 8443) == nil)
    }

    @Test func answers308AndKeepsTheConnection() throws {
        let channel = EmbeddedChannel(handler: HTTPSRedirectHandler(port: 8443))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(HTTPServerRequestPart.head(head("/x?y=1", host: "h.test")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let response) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no head")
            return
        }
        #expect(response.status == .permanentRedirect)
        #expect(response.headers["Location"] == ["https://h.test:8443/x?y=1"])
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}

@Suite struct TLSResponseHeadersTests {
    @Test func addsHSTSAndSecuresOnlyTheSessionCookie() {
        var headers = HTTPHeaders([
            ("Set-Cookie", "gw_session=abc; Path=/; HttpOnly; SameSite=Lax"),
            ("Set-Cookie", "theme=dark; Path=/"),
            ("Set-Cookie", "gw_session_other=1"),
        ])
        TLSResponseHeaders.apply(to: &headers, hsts: "max-age=60", sessionCookiePrefix: "gw_session=")
        #expect(headers["Strict-Transport-Security"] == ["max-age=60"])
        #expect(headers["Set-Cookie"] == [
            "gw_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure", "theme=dark; Path=/", "gw_session_other=1",
        ])
    }

    @Test func leavesSecureCookiesAndNoHSTSAlone() {
        var headers = HTTPHeaders([("Set-Cookie", "gw_session=abc; Secure; Path=/"), ("Strict-Transport-Security", "max-age=1")])
        TLSResponseHeaders.apply(to: &headers, hsts: nil, sessionCookiePrefix: "gw_session=")
        #expect(headers["Set-Cookie"] == ["gw_session=abc; Secure; Path=/"])
        #expect(headers["Strict-Transport-Security"] == ["max-age=1"])
        #expect(TLSResponseHeaders.isSecure("a=b; secure"))
        #expect(!TLSResponseHeaders.isSecure("a=Secure"))
    }
}
