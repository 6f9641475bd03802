import Foundation

/// The token of an `Authorization: Bearer …` header (RFC 6750 §2.1), and the header's JOSE fields.
public enum BearerToken {
    /// Nil when there is no Bearer credential.
    public static func extract(authorization: String?) -> String? {
        guard let authorization else { return nil }
        let trimmed = authorization.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// `alg` and `kid` of a compact JWS, or a description of what is malformed.
    public static func header(of token: String) -> Result<(alg: String, kid: String?), JWTFailure> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            return .failure(JWTFailure("the token is not a compact JWS (three base64url parts separated by dots)"))
        }
        guard let data = base64URLDecode(parts[0]),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return .failure(JWTFailure("the token header is not base64url-encoded JSON")) }
        guard let alg = object["alg"] as? String else { return .failure(JWTFailure("the token header has no alg")) }
        if let crit = object["crit"] as? [Any], !crit.isEmpty {
            return .failure(JWTFailure("the token lists critical header parameters this gateway does not understand"))
        }
        return .success((alg, object["kid"] as? String))
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Why a token was refused: the RFC 6750 `error_description`.
public struct JWTFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
