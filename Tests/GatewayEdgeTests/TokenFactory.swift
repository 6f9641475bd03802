import Crypto
import Foundation
import JWTKit

@testable import GatewayEdge

/// Signs test tokens with jwt-kit from the private JWKs in ``TestKeys``.
enum TokenFactory {
    static func sign(_ claims: [String: ClaimValue], privateJWK: String, kid: String) async throws -> String {
        let keys = JWTKeyCollection()
        try await keys.add(jwk: JSONDecoder().decode(JWK.self, from: Data(privateJWK.utf8)))
        return try await keys.sign(JWTClaims(claims), kid: JWKIdentifier(string: kid))
    }

    static func signHMAC(_ claims: [String: ClaimValue], secret: String, digest: DigestAlgorithm = .sha256) async throws -> String {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
        return try await keys.sign(JWTClaims(claims))
    }

    /// A token with `alg: none` and no signature, as an attacker writes it.
    static func unsigned(_ claims: [String: ClaimValue], alg: String = "none") -> String {
        let header = base64URL(Data("{\"alg\":\"\(alg)\",\"typ\":\"JWT\"}".utf8))
        let payload = base64URL(try! JSONEncoder().encode(JWTClaims(claims)))
        return "\(header).\(payload)."
    }

    /// HS256 over the header and payload with `key` as the HMAC secret: the classic key-confusion attack when
    /// `key` is the server's RSA public key.
    static func hs256(_ claims: [String: ClaimValue], key: String, kid: String? = nil) -> String {
        let kidField = kid.map { ",\"kid\":\"\($0)\"" } ?? ""
        let header = base64URL(Data("{\"alg\":\"HS256\",\"typ\":\"JWT\"\(kidField)}".utf8))
        let payload = base64URL(try! JSONEncoder().encode(JWTClaims(claims)))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(key.utf8)))
        return "\(header).\(payload).\(base64URL(Data(mac)))"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func jwks(_ publicJWKs: String...) -> String {
        "{\"keys\":[\(publicJWKs.joined(separator: ","))]}"
    }

    static var now: Double { Date().timeIntervalSince1970 }

    static func claims(
        sub: String = "user-1", aud: String = "my-api", iss: String = "https://idp.example/", exp: Double? = nil,
        nbf: Double? = nil
    ) -> [String: ClaimValue] {
        var claims: [String: ClaimValue] = [
            "sub": .string(sub), "aud": .string(aud), "iss": .string(iss), "exp": .integer(Int64(exp ?? now + 600)),
            "email": .string("\(sub)@example.com"), "roles": .array([.string("admin"), .string("dev")]),
        ]
        if let nbf { claims["nbf"] = .integer(Int64(nbf)) }
        return claims
    }
}
