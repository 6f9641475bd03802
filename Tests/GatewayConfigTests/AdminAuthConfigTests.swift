import Testing

@testable import GatewayConfig

@Suite struct AdminAuthConfigTests {
    func load(_ server: String) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: "server:\n" + server + "\n" + baseUpstream, path: "/cfg/gateway.yaml", environment: [:])
    }

    @Test func basicUsersFileIsResolvedAgainstTheConfigDirectory() throws {
        let config = try load("  admin_auth: { basic_users_file: admin.htpasswd }")
        #expect(config.server.adminAuth == .basicUsersFile(path: "/cfg/admin.htpasswd"))
        let absolute = try load("  admin_auth: { basic_users_file: /etc/gw/users }")
        #expect(absolute.server.adminAuth == .basicUsersFile(path: "/etc/gw/users"))
    }

    @Test func tokenEnvNamesAVariable() throws {
        let config = try load("  admin_auth: { token_env: GATEWAY_ADMIN_TOKEN }")
        #expect(config.server.adminAuth == .tokenEnv(name: "GATEWAY_ADMIN_TOKEN"))
        #expect(try load("  admin_listen: 127.0.0.1:9901").server.adminAuth == nil)
    }

    @Test func malformedBlocksNameTheirPosition() {
        #expect(errorLines("server:\n  admin_auth: { token_env: A, basic_users_file: f }\n" + baseUpstream) == [
            "/cfg/gateway.yaml:2:15: server.admin_auth takes one of 'basic_users_file' or 'token_env', not both"
        ])
        #expect(errorLines("server:\n  admin_auth: {}\n" + baseUpstream) == [
            "/cfg/gateway.yaml:2:15: server.admin_auth needs 'basic_users_file' or 'token_env'"
        ])
        #expect(errorLines("server:\n  admin_auth: { token_env: \"s3cr3t token!\" }\n" + baseUpstream).first?.contains(
            "'token_env' names an environment variable") == true)
        #expect(errorLines("server:\n  admin_auth: { tokn_env: X }\n" + baseUpstream).contains {
            $0.hasSuffix(":2:17: unknown key 'tokn_env' in server.admin_auth (did you mean 'token_env'?)")
        })
        #expect(errorLines("server:\n  admin_auth: yes\n" + baseUpstream).first?.contains("must be a mapping") == true)
    }

    @Test func checkWarnsAboutAnOpenAdminListener() throws {
        let open = try load("  admin_listen: 0.0.0.0:9901")
        #expect(ConfigWarnings.warnings(for: open).count == 1)
        #expect(ConfigWarnings.warnings(for: open)[0].contains("0.0.0.0:9901"))
        let guarded = try load("  admin_listen: 0.0.0.0:9901\n  admin_auth: { token_env: T }")
        #expect(ConfigWarnings.warnings(for: guarded).isEmpty)
        #expect(ConfigWarnings.warnings(for: try load("  admin_listen: 127.0.0.1:9901")).isEmpty)
        #expect(ConfigWarnings.warnings(for: try load("  admin_listen: localhost:9901")).isEmpty)
        #expect(ConfigWarnings.warnings(for: try load("  admin_listen: false")).isEmpty)
    }
}
