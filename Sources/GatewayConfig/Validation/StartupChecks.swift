/// What `serve` needs beyond a valid file: things only the environment of the running process can provide.
/// `check` does not run these (a CI box validating a config usually has no production secrets), `serve` runs them
/// before binding anything and reports them like config errors, `FILE:LINE:COLUMN: message`.
public enum StartupChecks {
    public static let minimumSecretBytes = 32

    public static func problems(_ config: GatewayConfiguration, environment: [String: String]) -> [ConfigError] {
        var problems: [ConfigError] = []
        if let sessions = config.sessions {
            let location = sessions.location ?? SourceLocation(file: config.sourceFiles.first ?? "config", line: 1, column: 1)
            if let message = secretProblem(sessions, environment: environment) {
                problems.append(ConfigError(at: location, message))
            }
        }
        return problems
    }

    /// The same rule `SessionCookieCodec` enforces, worded for an operator.
    static func secretProblem(_ sessions: SessionSettings, environment: [String: String]) -> String? {
        let variable = sessions.secretEnv
        guard let secret = environment[variable], !secret.isEmpty else {
            return "sessions: environment variable \(variable) (named by sessions.secret_env) is not set; "
                + "set it to a random secret of at least \(minimumSecretBytes) bytes, e.g. "
                + "export \(variable)=\"$(openssl rand -base64 48)\""
        }
        let bytes = secret.utf8.count
        if bytes < minimumSecretBytes {
            return "sessions: the secret in \(variable) is \(bytes) bytes; it must be at least \(minimumSecretBytes) bytes"
        }
        return nil
    }
}
