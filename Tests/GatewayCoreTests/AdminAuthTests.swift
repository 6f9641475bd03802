import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite struct AdminAuthTests {
    static let alice = "$2y$04$e3xbZFGgkwelal5xuvWx3e0qxU..VwOM7obhG32VnjPHEbcjk7Iqi"  // "wonder land"

    @Test func htpasswdAcceptsBcryptOnly() throws {
        let file = try HtpasswdFile.parse("# admins\n\nalice:\(Self.alice)\r\nbob:$2b$04$5nDbtAmOViZPTOKPmPhLL.AX3xG11leklB0dwrwwwWPzY0qz0BjT2\n")
        #expect(file.users.keys.sorted() == ["alice", "bob"])
        #expect(throws: HtpasswdFile.Problem(line: 1, message: "user 'carol': only bcrypt entries are accepted (create them with `htpasswd -B`)")) {
            try HtpasswdFile.parse("carol:$apr1$abc$def\n")
        }
        #expect(throws: HtpasswdFile.Problem(line: 2, message: "expected 'user:hash'")) {
            try HtpasswdFile.parse("alice:\(Self.alice)\nnonsense\n")
        }
        #expect(throws: HtpasswdFile.Problem(line: 2, message: "user 'alice' appears twice")) {
            try HtpasswdFile.parse("alice:\(Self.alice)\nalice:\(Self.alice)\n")
        }
        #expect(throws: HtpasswdFile.Problem(line: 1, message: "the file holds no user")) { try HtpasswdFile.parse("\n# none\n") }
        #expect(!HtpasswdFile.isBcrypt("$2y$04$short"))
        #expect(!HtpasswdFile.isBcrypt("$2x$04$e3xbZFGgkwelal5xuvWx3e0qxU..VwOM7obhG32VnjPHEbcjk7Iqi"))
    }

    @Test func bcryptVerifiesThroughLibcrypt() {
        #expect(Bcrypt.verify(password: "wonder land", hash: Self.alice))
        #expect(!Bcrypt.verify(password: "wonder lanD", hash: Self.alice))
        #expect(!Bcrypt.verify(password: "", hash: Self.alice))
        #expect(!Bcrypt.verify(password: "x", hash: "not a hash"))
    }

    @Test func credentialsAreParsedStrictly() {
        func headers(_ value: String) -> HTTPHeaders { HTTPHeaders([("Authorization", value)]) }
        let encoded = Data("alice:wonder land".utf8).base64EncodedString()
        #expect(AdminAuthenticator.basicCredentials(headers("Basic \(encoded)"))! == ("alice", "wonder land"))
        #expect(AdminAuthenticator.basicCredentials(headers("basic \(encoded)"))! == ("alice", "wonder land"))
        #expect(AdminAuthenticator.basicCredentials(headers("Basic !!!")) == nil)
        #expect(AdminAuthenticator.basicCredentials(headers("Basic \(Data("nocolon".utf8).base64EncodedString())")) == nil)
        #expect(AdminAuthenticator.bearerToken(headers("Bearer abc")) == "abc")
        #expect(AdminAuthenticator.bearerToken(headers("Bearer")) == nil)
        #expect(AdminAuthenticator.bearerToken(headers("Token abc")) == nil)
        let cookies = HTTPHeaders([("Cookie", "a=1; gateway_admin=t%20k; b=2")])
        #expect(AdminAuthenticator.cookie("gateway_admin", in: cookies) == "t k")
    }

    @Test func tokenModeComparesTheWholeToken() throws {
        let auth = try AdminAuthenticator.load(.tokenEnv(name: "T"), environment: ["T": "s3cret"])
        #expect(auth.acceptsToken("s3cret"))
        #expect(!auth.acceptsToken("s3cre"))
        #expect(!auth.acceptsToken("s3crets"))
        #expect(throws: AdminAuthenticator.LoadError.self) {
            try AdminAuthenticator.load(.tokenEnv(name: "T"), environment: [:])
        }
    }

    @Test func crossOriginWritesAreRefused() {
        func head(_ method: HTTPMethod, origin: String?) -> HTTPRequestHead {
            var headers = HTTPHeaders([("Host", "127.0.0.1:9901")])
            if let origin { headers.add(name: "Origin", value: origin) }
            return HTTPRequestHead(version: .http1_1, method: method, uri: "/reload", headers: headers)
        }
        #expect(AdminGuard.crossOriginRefusal(head(.POST, origin: nil)) == nil)
        #expect(AdminGuard.crossOriginRefusal(head(.POST, origin: "http://127.0.0.1:9901")) == nil)
        #expect(AdminGuard.crossOriginRefusal(head(.POST, origin: "http://evil.example"))?.status == .forbidden)
        #expect(AdminGuard.crossOriginRefusal(head(.POST, origin: "null"))?.status == .forbidden)
        #expect(AdminGuard.crossOriginRefusal(head(.GET, origin: "http://evil.example")) == nil)
    }
}
