import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite struct RequestValidationTests {
    func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: HTTPHeaders(headers))
    }

    @Test func bothLengthAndChunkedIsSmuggling() {
        #expect(RequestValidation.framingProblem(head([("Content-Length", "5"), ("Transfer-Encoding", "chunked")])) != nil)
    }

    @Test func conflictingLengthsAreRejected() {
        #expect(RequestValidation.framingProblem(head([("Content-Length", "5"), ("Content-Length", "6")])) != nil)
        #expect(RequestValidation.framingProblem(head([("Content-Length", "5"), ("Content-Length", "5")])) == nil)
        #expect(RequestValidation.framingProblem(head([("Content-Length", "-1")])) != nil)
    }

    @Test func transferEncodingMustEndInChunked() {
        #expect(RequestValidation.framingProblem(head([("Transfer-Encoding", "gzip")])) != nil)
        #expect(RequestValidation.framingProblem(head([("Transfer-Encoding", "chunked")])) == nil)
    }

    @Test func splitsTargets() {
        #expect(RequestValidation.splitURI("/a/b?x=1&y").path == "/a/b")
        #expect(RequestValidation.splitURI("/a/b?x=1&y").query == "x=1&y")
        #expect(RequestValidation.splitURI("/a").query == nil)
    }

    @Test func hostWithoutPort() {
        #expect(RequestValidation.hostWithoutPort("Example.COM:8080") == "example.com")
        #expect(RequestValidation.hostWithoutPort("[::1]:80") == "[::1]")
    }

    @Test func readsCookies() {
        let headers = HTTPHeaders([("Cookie", "a=1; gw_session=abc.def; b=2")])
        #expect(RequestValidation.cookie(named: "gw_session", in: headers) == "abc.def")
        #expect(RequestValidation.cookie(named: "missing", in: headers) == nil)
    }
}

@Suite struct ForwardedHeadersTests {
    @Test func hopByHopAndIdentityHeadersNeverReachTheUpstream() {
        let client = HTTPHeaders([
            ("Host", "example.com"), ("Connection", "keep-alive, X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "5"),
            ("TE", "trailers"), ("Trailer", "X"), ("Proxy-Authorization", "x"), ("X-Gateway-User", "admin"),
            ("x-gateway-session", "{}"), ("Accept", "*/*"), ("Upgrade", "h2c"),
        ])
        let out = ForwardedHeaders.upstreamHeaders(
            from: client, clientAddress: "10.0.0.1", peerIsTrusted: false, requestID: "rid", keepUpgrade: false)
        for name in ["connection", "x-secret", "keep-alive", "te", "trailer", "proxy-authorization", "x-gateway-user",
                     "x-gateway-session", "upgrade"] {
            #expect(!out.contains(name: name), "\(name) leaked")
        }
        #expect(out.first(name: "host") == "example.com")
        #expect(out.first(name: "accept") == "*/*")
        #expect(out.first(name: "x-forwarded-for") == "10.0.0.1")
        #expect(out.first(name: "x-forwarded-proto") == "http")
        #expect(out.first(name: "x-forwarded-host") == "example.com")
        #expect(out.first(name: "via") == "1.1 gateway")
        #expect(out.first(name: "x-request-id") == "rid")
    }

    @Test func forwardedForIsAppended() {
        let client = HTTPHeaders([("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https")])
        let untrusted = ForwardedHeaders.upstreamHeaders(
            from: client, clientAddress: "10.0.0.1", peerIsTrusted: false, requestID: "r", keepUpgrade: false)
        #expect(untrusted.first(name: "x-forwarded-for") == "1.2.3.4, 10.0.0.1")
        #expect(untrusted.first(name: "x-forwarded-proto") == "http")
        let trusted = ForwardedHeaders.upstreamHeaders(
            from: client, clientAddress: "10.0.0.1", peerIsTrusted: true, requestID: "r", keepUpgrade: false)
        #expect(trusted.first(name: "x-forwarded-proto") == "https")
    }

    @Test func websocketUpgradeKeepsUpgradeHeaders() {
        let client = HTTPHeaders([("Connection", "Upgrade"), ("Upgrade", "websocket")])
        let out = ForwardedHeaders.upstreamHeaders(
            from: client, clientAddress: "1.1.1.1", peerIsTrusted: false, requestID: "r", keepUpgrade: true)
        #expect(out.first(name: "upgrade") == "websocket")
        #expect(out.first(name: "connection") == "upgrade")
    }
}

@Suite struct RequestIDTests {
    @Test func keepsValidClientIDs() {
        #expect(RequestID.accept("abc-123_x.y") == "abc-123_x.y")
        #expect(RequestID.accept("") == nil)
        #expect(RequestID.accept("has space") == nil)
        #expect(RequestID.accept(String(repeating: "a", count: 201)) == nil)
        #expect(RequestID.accept(String(repeating: "a", count: 200)) != nil)
    }

    @Test func generatesUUIDs() {
        let id = RequestID.generate()
        #expect(id.count == 36)
        #expect(Array(id)[14] == "4")
        #expect(RequestID.generate() != id)
    }
}

@Suite struct ClientAddressTests {
    @Test func trustedPeerYieldsRightmostUntrustedHop() {
        let ip = ClientAddress.resolve(
            peer: "127.0.0.1", peerTrusted: true, forwardedFor: ["203.0.113.9, 10.0.0.2"],
            isTrusted: { $0.hasPrefix("10.") || $0 == "127.0.0.1" })
        #expect(ip == "203.0.113.9")
    }

    @Test func untrustedPeerIsTheClient() {
        let ip = ClientAddress.resolve(peer: "198.51.100.1", peerTrusted: false, forwardedFor: ["1.2.3.4"], isTrusted: { _ in true })
        #expect(ip == "198.51.100.1")
    }
}
