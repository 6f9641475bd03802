import Foundation
import GatewayConfig
import JWTKit

/// `gateway check`'s look at the JWT providers, without starting anything: a `jwks_file` must be readable, be a
/// JWKS whose keys all have a `kid`, and hold keys the listed `algorithms` can use. (A `jwks_url` is not fetched
/// by `check`; `serve` logs a failed fetch and keeps answering 401 until the keys arrive.)
public enum JWKSInspection {
    public static func problems(_ config: GatewayConfiguration) -> [ConfigError] {
        var problems: [ConfigError] = []
        for provider in config.auth.jwt {
            guard case .jwksFile(let path) = provider.keys else { continue }
            let location = provider.keysLocation ?? provider.location ?? SourceLocation(file: config.sourceFiles.first ?? "config", line: 1, column: 1)
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(ConfigError(at: location, "auth.jwt.\(provider.name): cannot read the JWKS file '\(path)'"))
                continue
            }
            switch inspect(data) {
            case .failure(let problem):
                problems.append(ConfigError(at: location, "auth.jwt.\(provider.name): '\(path)': \(problem.message)"))
            case .success(let keys):
                for message in keys.mismatches(algorithms: provider.algorithms) {
                    problems.append(ConfigError(at: location, "auth.jwt.\(provider.name): '\(path)': \(message)"))
                }
            }
        }
        return problems
    }

    /// The kids, types and pinned algorithms of a JWKS document (no key material is built).
    public static func inspect(_ data: Data) -> Result<KeySummary, JWKSProblem> {
        let jwks: JWKS
        do {
            jwks = try JSONDecoder().decode(JWKS.self, from: data)
        } catch {
            return .failure(JWKSProblem("not a JWKS document ({\"keys\": [...]}): \(JWTKeySet.describe(error))"))
        }
        guard !jwks.keys.isEmpty else { return .failure(JWKSProblem("the JWKS has no keys")) }
        var summary = KeySummary()
        for (index, jwk) in jwks.keys.enumerated() {
            guard let kid = jwk.keyIdentifier?.string else { return .failure(JWKSProblem("key #\(index + 1) has no \"kid\"")) }
            summary.algorithms[kid] = .some(jwk.algorithm?.rawValue)
            summary.types[kid] = jwk.keyType.rawValue
        }
        return .success(summary)
    }

    public struct KeySummary: Sendable {
        public var algorithms: [String: String?] = [:]
        public var types: [String: String] = [:]

        public func mismatches(algorithms allowed: [String]) -> [String] {
            JWTKeySet(collection: nil, hmac: [:], keyAlgorithms: algorithms, keyTypes: types).mismatches(algorithms: allowed)
        }
    }
}
