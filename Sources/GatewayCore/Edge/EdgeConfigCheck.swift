import GatewayConfig
import GatewayEdge

/// What `check` and `serve` verify about the edge policies beyond the file itself (SPEC §10).
public enum EdgeConfigCheck {
    /// `gateway check`: unreadable JWKS files, keys the listed algorithms cannot use. `FILE:LINE:COLUMN: message`.
    public static func problems(_ configuration: GatewayConfiguration) -> [String] {
        JWKSInspection.problems(configuration).map(\.description)
    }

    /// `serve` also needs the HMAC secrets that `secret_env` names.
    public static func startupProblems(_ configuration: GatewayConfiguration, environment: [String: String]) -> [ConfigError] {
        var problems = JWKSInspection.problems(configuration)
        for provider in configuration.auth.jwt {
            guard case .secretEnv(let variable) = provider.keys else { continue }
            let location = provider.keysLocation ?? provider.location ?? SourceLocation(file: "config", line: 1, column: 1)
            let secret = environment[variable] ?? ""
            if secret.isEmpty {
                problems.append(
                    ConfigError(at: location, "auth.jwt.\(provider.name): environment variable \(variable) (secret_env) is not set"))
            } else if secret.utf8.count < 32 {
                problems.append(
                    ConfigError(
                        at: location,
                        "auth.jwt.\(provider.name): the secret in \(variable) is \(secret.utf8.count) bytes; HS256 needs at least 32"))
            }
        }
        return problems
    }
}
