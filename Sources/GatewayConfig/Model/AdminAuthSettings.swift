/// `server.admin_auth` (SPEC §12): who may use the admin listener (API, dashboard, `/metrics`).
public enum AdminAuthSettings: Sendable, Equatable {
    /// HTTP Basic against an htpasswd file of bcrypt entries (`htpasswd -B`). The path is resolved against the
    /// directory of the file that names it.
    case basicUsersFile(path: String)
    /// `Authorization: Bearer <token>`, the token read from this environment variable at start.
    case tokenEnv(name: String)
}
