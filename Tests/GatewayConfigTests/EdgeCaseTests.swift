import Testing

@testable import GatewayConfig

@Suite struct EdgeCaseTests {
    @Test func emptyMainFileGivesDefaults() throws {
        let config = try ConfigLoader.load(yaml: "# nothing yet\n", path: "/cfg/g.yaml", environment: [:])
        #expect(config == GatewayConfiguration(sourceFiles: ["/cfg/g.yaml"]))
    }

    @Test func offSwitchesAndAliases() throws {
        let yaml = """
            upstreams:
              app:
                replicas: [http://127.0.0.1:1]
                health: false
            sessions: false
            limits: &limits
              - { key: client_ip, limit: 1, window: 1s }
            """
        // `limits` is not a top-level key: anchors must live inside known keys.
        #expect(errorLines(yaml) == ["/cfg/gateway.yaml:6:1: unknown key 'limits' in the top level; expected one of: server, store, upstreams, sessions, cache, auth, routes, include, observability"])

        let ok = try ConfigLoader.load(yaml: """
            upstreams:
              app:
                replicas: [http://127.0.0.1:1]
                health: false
            sessions: false
            routes:
              - name: a
                match: { path_prefix: /a/ }
                upstream: app
                compress: false
                strip_prefix: false
                session: off
                rate_limits: &shared
                  - { key: client_ip, limit: 1, window: 1s }
              - name: b
                match: { path_prefix: /b/ }
                upstream: app
                rate_limits: *shared
            """, path: "/cfg/g.yaml", environment: [:])
        #expect(ok.sessions == nil)
        #expect(ok.upstreams[0].health == nil)
        #expect(ok.routes[0].compress == nil)
        #expect(ok.routes[0].stripPrefix == StripPrefix.none)
        #expect(ok.routes[1].rateLimits == ok.routes[0].rateLimits)
    }

    @Test func topLevelMustBeAMapping() {
        #expect(errorLines("- a\n- b\n") == ["/cfg/gateway.yaml:1:1: 'the top level' must be a mapping, got a list"])
    }

    @Test func multipleDocumentsAreRejected() {
        let lines = errorLines("server: {}\n---\nserver: {}\n")
        #expect(lines == ["/cfg/gateway.yaml:2:1: a config file holds one YAML document; remove the '---' separator"])
    }

    @Test func duplicateRateLimitNamesAndReplicas() {
        let lines = errorLines("""
            upstreams:
              app:
                replicas: [http://127.0.0.1:1, "http://127.0.0.1:1/"]
            routes:
              - name: r
                match: { path: /x }
                upstream: app
                rate_limits:
                  - { key: client_ip, limit: 1, window: 1s }
                  - { key: client_ip, limit: 5, window: 1m }
            """)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("/cfg/gateway.yaml:3:36: duplicate replica http://127.0.0.1:1"))
        #expect(lines[1].hasPrefix("/cfg/gateway.yaml:10:9: duplicate rate limit name 'client_ip'"))
    }
}
