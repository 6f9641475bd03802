import Foundation
import GatewayConfig
import JWTKit

/// One loaded set of verification keys (a JWKS document or an HMAC secret), immutable once built: a refresh
/// builds a new set and swaps it in. The crypto is jwt-kit's; this type only knows which `kid`s and `alg`s it holds.
public struct JWTKeySet: Sendable {
    /// jwt-kit's collection for JWKS keys.
    let collection: JWTKeyCollection?
    /// HS256/384/512: one collection per algorithm, each holding the secret as its default key.
    let hmac: [String: JWTKeyCollection]
    /// `kid` → the `alg` the JWK pins (nil when the JWK does not say).
    public let keyAlgorithms: [String: String?]
    /// `kty` per kid, for `gateway check`.
    public let keyTypes: [String: String]

    public var kids: [String] { keyAlgorithms.keys.sorted() }

    /// Parses a JWKS document. Every key needs a `kid` (jwt-kit selects keys by it).
    public static func jwks(json: String) async throws -> JWTKeySet {
        let jwks: JWKS
        do {
            jwks = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
        } catch {
            throw JWKSProblem("not a JWKS document ({\"keys\": [...]}): \(Self.describe(error))")
        }
        guard !jwks.keys.isEmpty else { throw JWKSProblem("the JWKS has no keys") }
        var algorithms: [String: String?] = [:]
        var types: [String: String] = [:]
        let collection = JWTKeyCollection()
        for (index, jwk) in jwks.keys.enumerated() {
            guard let kid = jwk.keyIdentifier?.string else { throw JWKSProblem("key #\(index + 1) has no \"kid\"") }
            algorithms[kid] = .some(jwk.algorithm?.rawValue)
            types[kid] = jwk.keyType.rawValue
            do {
                try await collection.add(jwk: jwk)
            } catch {
                throw JWKSProblem("key '\(kid)' is not usable: \(Self.describe(error))")
            }
        }
        return JWTKeySet(collection: collection, hmac: [:], keyAlgorithms: algorithms, keyTypes: types)
    }

    /// An HMAC secret for the listed HS* algorithms.
    public static func secret(_ secret: String, algorithms: [String]) async -> JWTKeySet {
        var hmac: [String: JWTKeyCollection] = [:]
        for algorithm in algorithms {
            let digest: DigestAlgorithm
            switch algorithm {
            case "HS384": digest = .sha384
            case "HS512": digest = .sha512
            default: digest = .sha256
            }
            hmac[algorithm] = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
        }
        return JWTKeySet(collection: nil, hmac: hmac, keyAlgorithms: [:], keyTypes: [:])
    }

    /// Problems between the keys and the listed algorithms (`gateway check`): a key no listed algorithm can use,
    /// or a key pinned to an algorithm that is not listed.
    public func mismatches(algorithms: [String]) -> [String] {
        var problems: [String] = []
        for kid in kids {
            let type = keyTypes[kid] ?? "?"
            if let pinned = keyAlgorithms[kid] ?? nil, !algorithms.contains(pinned) {
                problems.append("key '\(kid)' is for \(pinned), which 'algorithms' does not list (\(algorithms.joined(separator: ", ")))")
                continue
            }
            let usable = algorithms.contains { Self.keyType(for: $0) == type }
            if !usable {
                problems.append(
                    "key '\(kid)' is of type \(type), which none of \(algorithms.joined(separator: ", ")) can use")
            }
        }
        return problems
    }

    /// The JWK `kty` an algorithm needs.
    static func keyType(for algorithm: String) -> String {
        switch algorithm.prefix(2) {
        case "RS", "PS": return "RSA"
        case "ES": return "EC"
        case "Ed": return "OKP"
        default: return "oct"
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? JWTError { return error.reason ?? "\(error.errorType)" }
        if let error = error as? DecodingError {
            switch error {
            case .keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                return context.debugDescription
            @unknown default: return "\(error)"
            }
        }
        return "\(error)"
    }
}

/// Why a JWKS could not be used.
public struct JWKSProblem: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
