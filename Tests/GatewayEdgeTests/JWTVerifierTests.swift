import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import Testing

@testable import GatewayEdge

/// Real tokens signed with jwt-kit (RS256, ES256, EdDSA, HS256) against ``JWTVerifier``.
@Suite struct JWTVerifierTests {
    static func settings(_ keys: JWTKeySource, algorithms: [String] = ["RS256", "ES256", "EdDSA"]) -> JWTProviderSettings {
        var settings = JWTProviderSettings(name: "main", keys: keys)
        settings.issuer = "https://idp.example/"
        settings.audience = ["my-api"]
        settings.algorithms = algorithms
        return settings
    }

    /// A verifier over a fixed JWKS served by a fake fetcher that counts its calls.
    static func urlVerifier(_ documents: NIOLockedValueBox<String>, calls: NIOLockedValueBox<Int>, algorithms: [String] = ["RS256", "ES256", "EdDSA"]) -> JWTVerifier {
        JWTVerifier(
            settings: settings(.jwksURL("https://idp.example/jwks"), algorithms: algorithms), environment: [:],
            fetch: { _ in
                calls.withLockedValue { $0 += 1 }
                return documents.withLockedValue { $0 }
            }, minimumRefetchInterval: 0)
    }

    static func allKeysVerifier() -> JWTVerifier {
        let document = NIOLockedValueBox(TokenFactory.jwks(TestKeys.rsaPublic, TestKeys.ecPublic, TestKeys.edPublic))
        return urlVerifier(document, calls: NIOLockedValueBox(0))
    }

    @Test(arguments: [
        (TestKeys.rsaPrivate, "rsa-1"), (TestKeys.ecPrivate, "ec-1"), (TestKeys.edPrivate, "ed-1"),
    ])
    func validTokensPass(privateJWK: String, kid: String) async throws {
        let token = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: privateJWK, kid: kid)
        let result = await Self.allKeysVerifier().verify(token)
        let claims = try result.get()
        #expect(claims["sub"] == .string("user-1"))
        #expect(claims["roles"]?.text == "admin,dev")
    }

    @Test func hs256WithSecretFromTheEnvironment() async throws {
        let secret = String(repeating: "s3cret-", count: 6)
        let verifier = JWTVerifier(
            settings: Self.settings(.secretEnv("JWT_SECRET"), algorithms: ["HS256"]), environment: ["JWT_SECRET": secret])
        let token = try await TokenFactory.signHMAC(TokenFactory.claims(), secret: secret)
        #expect(try await verifier.verify(token).get()["sub"] == .string("user-1"))
        let forged = try await TokenFactory.signHMAC(TokenFactory.claims(), secret: secret + "x")
        #expect(await verifier.verify(forged) == .failure(JWTFailure("the token signature is invalid")))
    }

    @Test func expiredAndNotYetValidTokensFail() async throws {
        let verifier = Self.allKeysVerifier()
        let expired = try await TokenFactory.sign(
            TokenFactory.claims(exp: TokenFactory.now - 60), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(await verifier.verify(expired) == .failure(JWTFailure("the token expired")))
        let early = try await TokenFactory.sign(
            TokenFactory.claims(nbf: TokenFactory.now + 600), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(await verifier.verify(early) == .failure(JWTFailure("the token is not valid yet (nbf)")))
    }

    @Test func leewayAcceptsSlightlyExpiredTokens() async throws {
        var settings = Self.settings(.jwksURL("https://idp.example/jwks"))
        settings.leeway = .seconds(120)
        let verifier = JWTVerifier(settings: settings, environment: [:], fetch: { _ in TokenFactory.jwks(TestKeys.ecPublic) })
        let token = try await TokenFactory.sign(TokenFactory.claims(exp: TokenFactory.now - 60), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(try await verifier.verify(token).get()["sub"] == .string("user-1"))
    }

    @Test func wrongAudienceAndIssuerHavePreciseDescriptions() async throws {
        let verifier = Self.allKeysVerifier()
        let wrongAudience = try await TokenFactory.sign(TokenFactory.claims(aud: "other-api"), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(await verifier.verify(wrongAudience) == .failure(JWTFailure("the audience other-api is not accepted; expected my-api")))
        let wrongIssuer = try await TokenFactory.sign(TokenFactory.claims(iss: "https://evil.example/"), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(
            await verifier.verify(wrongIssuer)
                == .failure(JWTFailure("the issuer https://evil.example/ is not accepted; expected https://idp.example/")))
    }

    @Test func algNoneIsRefused() async {
        let token = TokenFactory.unsigned(TokenFactory.claims())
        #expect(await Self.allKeysVerifier().verify(token) == .failure(JWTFailure("unsigned tokens (alg none) are not accepted")))
        let upper = TokenFactory.unsigned(TokenFactory.claims(), alg: "NONE")
        #expect(await Self.allKeysVerifier().verify(upper) == .failure(JWTFailure("unsigned tokens (alg none) are not accepted")))
    }

    @Test func keyConfusionHS256WithThePublicKeyIsRefused() async {
        let token = TokenFactory.hs256(TokenFactory.claims(), key: TestKeys.rsaPublicPEM, kid: "rsa-1")
        let result = await Self.allKeysVerifier().verify(token)
        #expect(result == .failure(JWTFailure("the algorithm HS256 is not accepted (allowed: RS256, ES256, EdDSA)")))
        // Even when a provider lists HS256 next to RS256 (the config refuses it; belt and braces), the RSA key is
        // pinned to RS256.
        let documents = NIOLockedValueBox(TokenFactory.jwks(TestKeys.rsaPublic))
        let lax = Self.urlVerifier(documents, calls: NIOLockedValueBox(0), algorithms: ["RS256", "HS256"])
        #expect(await lax.verify(token) == .failure(JWTFailure("the token's algorithm HS256 does not match its key (RS256)")))
    }

    @Test func tamperedSignatureAndPayloadFail() async throws {
        let verifier = Self.allKeysVerifier()
        let token = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.rsaPrivate, kid: "rsa-1")
        var parts = token.split(separator: ".").map(String.init)
        let forgedPayload = TokenFactory.base64URL(try JSONEncoder().encode(JWTClaims(TokenFactory.claims(sub: "admin"))))
        let swapped = [parts[0], forgedPayload, parts[2]].joined(separator: ".")
        #expect(await verifier.verify(swapped) == .failure(JWTFailure("the token signature is invalid")))
        parts[2] = String(parts[2].reversed())
        #expect(await verifier.verify(parts.joined(separator: ".")).isFailure)
        #expect(await verifier.verify("not-a-token") == .failure(JWTFailure("the token is not a compact JWS (three base64url parts separated by dots)")))
    }

    @Test func wrongKeyFails() async throws {
        // Signed by ec-2's private key but claiming kid ec-1.
        let token = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.ec2Private, kid: "ec-2")
        let header = TokenFactory.base64URL(Data("{\"alg\":\"ES256\",\"kid\":\"ec-1\",\"typ\":\"JWT\"}".utf8))
        let relabelled = header + token.drop { $0 != "." }
        let documents = NIOLockedValueBox(TokenFactory.jwks(TestKeys.ecPublic))
        let verifier = Self.urlVerifier(documents, calls: NIOLockedValueBox(0))
        #expect(await verifier.verify(relabelled) == .failure(JWTFailure("the token signature is invalid")))
    }

    @Test func unknownKidRefetchesTheJWKS() async throws {
        let documents = NIOLockedValueBox(TokenFactory.jwks(TestKeys.ecPublic))
        let calls = NIOLockedValueBox(0)
        let verifier = Self.urlVerifier(documents, calls: calls)
        let first = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(await verifier.verify(first).isSuccess)
        #expect(calls.withLockedValue { $0 } == 1)
        // The IdP rotates in ec-2; a token signed with it triggers one refetch and then passes.
        documents.withLockedValue { $0 = TokenFactory.jwks(TestKeys.ecPublic, TestKeys.ec2Public) }
        let rotated = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.ec2Private, kid: "ec-2")
        #expect(await verifier.verify(rotated).isSuccess)
        #expect(calls.withLockedValue { $0 } == 2)
        // A kid the IdP does not know either is refused after the refetch.
        let unknown = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.edPrivate, kid: "ed-1")
        #expect(await verifier.verify(unknown) == .failure(JWTFailure("the token's key id 'ed-1' is unknown")))
    }

    @Test func unknownKidRefetchIsRateLimited() async throws {
        let documents = NIOLockedValueBox(TokenFactory.jwks(TestKeys.ecPublic))
        let calls = NIOLockedValueBox(0)
        let verifier = JWTVerifier(
            settings: Self.settings(.jwksURL("https://idp.example/jwks")), environment: [:],
            fetch: { _ in
                calls.withLockedValue { $0 += 1 }
                return documents.withLockedValue { $0 }
            }, minimumRefetchInterval: 3600)
        let unknown = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.edPrivate, kid: "ed-1")
        for _ in 0..<5 { #expect(await verifier.verify(unknown).isFailure) }
        #expect(calls.withLockedValue { $0 } == 2, "the initial load, then one refetch for the unknown kid")
    }

    @Test func lastGoodKeysSurviveAnIdPOutage() async throws {
        let up = NIOLockedValueBox(true)
        let clock = NIOLockedValueBox(TokenFactory.now)
        var settings = Self.settings(.jwksURL("https://idp.example/jwks"))
        settings.jwksRefresh = .seconds(60)
        let verifier = JWTVerifier(
            settings: settings, environment: [:],
            fetch: { _ in
                guard up.withLockedValue({ $0 }) else { throw JWKSProblem("connection refused") }
                return TokenFactory.jwks(TestKeys.ecPublic)
            }, minimumRefetchInterval: 0, now: { clock.withLockedValue { $0 } })
        let token = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(await verifier.verify(token).isSuccess)
        up.withLockedValue { $0 = false }
        clock.withLockedValue { $0 += 120 }  // past jwks_refresh: a background refresh starts and fails
        verifier.forgetVerifiedTokens()
        #expect(await verifier.verify(token).isSuccess)
        _ = await verifier.currentKeys()
        #expect(await verifier.verify(token).isSuccess)
    }

    @Test func jwksFileIsReadAndKidsAreRequired() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        try TokenFactory.jwks(TestKeys.edPublic).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verifier = JWTVerifier(settings: Self.settings(.jwksFile(path)), environment: [:])
        let token = try await TokenFactory.sign(TokenFactory.claims(), privateJWK: TestKeys.edPrivate, kid: "ed-1")
        #expect(await verifier.verify(token).isSuccess)
        let missing = JWTVerifier(settings: Self.settings(.jwksFile(path + ".missing")), environment: [:])
        #expect(await missing.verify(token) == .failure(JWTFailure("the signing keys are not available")))
    }

    @Test func verifiedTokensAreCachedUntilExpiry() async throws {
        let clock = NIOLockedValueBox(TokenFactory.now)
        let verifier = JWTVerifier(
            settings: Self.settings(.jwksURL("https://idp.example/jwks")), environment: [:],
            fetch: { _ in TokenFactory.jwks(TestKeys.ecPublic) }, now: { clock.withLockedValue { $0 } })
        let token = try await TokenFactory.sign(
            TokenFactory.claims(exp: clock.withLockedValue { $0 } + 30), privateJWK: TestKeys.ecPrivate, kid: "ec-1")
        #expect(verifier.cachedClaims(for: token) == nil)
        #expect(await verifier.verify(token).isSuccess)
        #expect(verifier.cachedClaims(for: token)?["sub"] == .string("user-1"))
        clock.withLockedValue { $0 += 31 }
        #expect(verifier.cachedClaims(for: token) == nil)
        #expect(await verifier.verify(token) == .failure(JWTFailure("the token expired")))
    }

    @Test func bearerTokenExtraction() {
        #expect(BearerToken.extract(authorization: "Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(BearerToken.extract(authorization: "bearer   abc") == "abc")
        #expect(BearerToken.extract(authorization: "Basic dXNlcjpwYXNz") == nil)
        #expect(BearerToken.extract(authorization: "Bearer ") == nil)
        #expect(BearerToken.extract(authorization: nil) == nil)
    }

    @Test func malformedHeadersAreDescribed() {
        #expect(headerFailure("a.b") == "the token is not a compact JWS (three base64url parts separated by dots)")
        #expect(headerFailure("!!!.b.c") == "the token header is not base64url-encoded JSON")
        let noAlg = TokenFactory.base64URL(Data("{\"typ\":\"JWT\"}".utf8))
        #expect(headerFailure("\(noAlg).b.c") == "the token header has no alg")
        let crit = TokenFactory.base64URL(Data("{\"alg\":\"ES256\",\"crit\":[\"exp\"]}".utf8))
        #expect(headerFailure("\(crit).b.c") != nil)
        let kid = TokenFactory.base64URL(Data("{\"alg\":\"ES256\",\"kid\":\"k\"}".utf8))
        #expect(headerFailure("\(kid).b.c") == nil)
    }

    @Test func challengeIsRFC6750() {
        #expect(
            BearerChallenge.invalidToken("the \"token\" expired")
                == "Bearer error=\"invalid_token\", error_description=\"the token expired\"")
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }

    var isFailure: Bool { !isSuccess }
}

/// The description of a failed header parse.
func headerFailure(_ token: String) -> String? {
    if case .failure(let failure) = BearerToken.header(of: token) { return failure.description }
    return nil
}
