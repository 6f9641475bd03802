/// Things that are valid but probably not meant, printed by `gateway check` (and logged at start).
public enum ConfigWarnings {
    public static func warnings(for config: GatewayConfiguration) -> [String] {
        var out: [String] = []
        if let admin = config.server.adminListen, config.server.adminAuth == nil, !isLoopback(admin.host) {
            out.append(
                "warning: the admin listener \(admin) (API, dashboard, /metrics) is not on loopback and has no "
                    + "server.admin_auth: anyone who can reach it can reload, drain and read it. Bind it to 127.0.0.1 "
                    + "or add server.admin_auth { basic_users_file | token_env }.")
        }
        return out
    }

    /// 127.0.0.0/8, ::1 and `localhost`.
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "[::1]" { return true }
        let parts = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
