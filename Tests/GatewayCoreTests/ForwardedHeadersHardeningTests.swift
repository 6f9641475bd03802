import GatewayHTTP
import NIOHTTP1
import Testing

@testable import GatewayCore

/// Issue 10 items 1, 6 and 14 at the header-block level.
@Suite struct ForwardedHeadersHardeningTests {
    @Test func connectionHostDoesNotRemoveHost() {
        let out = ForwardedHeaders.upstreamHeaders(
            from: HTTPHeaders([("Host", "example.com"), ("Connection", "Host, X-Hop"), ("X-Hop", "1")]),
            clientAddress: "10.0.0.1", peerIsTrusted: false, requestID: "rid", keepUpgrade: false)
        #expect(out.first(name: "host") == "example.com")
        #expect(!out.contains(name: "x-hop"))
    }

    @Test func spoofedIdentitySpellingsNeverGoUpstream() {
        let out = ForwardedHeaders.upstreamHeaders(
            from: HTTPHeaders([("Host", "h"), ("X_Gateway_User", "admin"), ("x-gateway_session", "{}"),
                               ("X_Client_Cert_Subject", "CN=x"), ("X_Other", "1")]),
            clientAddress: "10.0.0.1", peerIsTrusted: false, requestID: "rid", keepUpgrade: false,
            headerRules: HeaderNameRules(underscoresAllowed: true))
        #expect(out.map(\.name).filter { HeaderNameRules.fold($0).hasPrefix("x-gateway") || $0.hasPrefix("X_Client") }.isEmpty)
        #expect(out.first(name: "X_Other") == "1")
    }

    @Test func upstreamIdentityHeadersAreStrippedFromResponses() {
        let out = ForwardedHeaders.downstreamHeaders(
            from: HTTPHeaders([("X-Gateway-User", "a"), ("X_Gateway_Session", "{}"), ("Content-Type", "text/plain")]),
            keepUpgrade: false)
        #expect(out.map(\.name) == ["Content-Type"])
    }

    @Test func trailerFieldIsKeptOnlyWhenAsked() {
        let upstream = HTTPHeaders([("Trailer", "X-Checksum"), ("Content-Type", "text/plain")])
        #expect(!ForwardedHeaders.downstreamHeaders(from: upstream, keepUpgrade: false).contains(name: "trailer"))
        #expect(
            ForwardedHeaders.downstreamHeaders(from: upstream, keepUpgrade: false, keepTrailer: true)
                .first(name: "trailer") == "X-Checksum")
    }
}
