import Testing

@testable import GatewayConfig

/// SPEC §13 keys: `server.timeouts.client_body`, `server.max_uri_bytes`, `server.underscores_in_headers`,
/// `server.merge_slashes`, `upstreams.X.panic_threshold`.
@Suite struct HardeningConfigTests {
    @Test func defaults() throws {
        let config = try ConfigLoader.load(yaml: baseUpstream, path: "/cfg/gateway.yaml", environment: [:])
        #expect(config.server.clientBodyTimeout == .seconds(60))
        #expect(config.server.maxURIBytes == 8 * 1024)
        #expect(config.server.underscoresInHeaders == false)
        #expect(config.server.mergeSlashes == true)
        #expect(config.upstream(named: "app")?.panicThreshold == nil)
    }

    @Test func explicitValues() throws {
        let yaml = """
            server:
              timeouts: { client_body: 5s }
              max_uri_bytes: 2KiB
              underscores_in_headers: true
              merge_slashes: false
            upstreams:
              app:
                replicas: [http://127.0.0.1:9001]
                panic_threshold: 50%
            """
        let config = try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: [:])
        #expect(config.server.clientBodyTimeout == .seconds(5))
        #expect(config.server.maxURIBytes == 2048)
        #expect(config.server.underscoresInHeaders)
        #expect(!config.server.mergeSlashes)
        #expect(config.upstream(named: "app")?.panicThreshold == 0.5)
    }

    @Test func badValuesNamePositionAndKey() {
        let lines = errorLines("""
            server:
              merge_slashes: sometimes
              max_uri_bytes: huge
            upstreams:
              app:
                replicas: [http://127.0.0.1:9001]
                panic_threshold: 150%
              other:
                replicas: [http://127.0.0.1:9002]
                panic_threshold: half
            """)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("/cfg/gateway.yaml:2:18: 'merge_slashes' must be true or false"))
        #expect(lines[1].hasPrefix("/cfg/gateway.yaml:3:18: 'max_uri_bytes' must be a size"))
        #expect(lines[2].hasPrefix("/cfg/gateway.yaml:7:22: 'panic_threshold' must be a percentage"))
        #expect(lines[3].hasPrefix("/cfg/gateway.yaml:10:22: 'panic_threshold' must be a percentage"))
    }
}

@Suite struct ConfigHintsTests {
    private func config(_ upstream: String) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: "upstreams:\n  app:\n" + upstream, path: "/cfg/gateway.yaml", environment: [:])
    }

    @Test func shortCheckTimeoutWithoutPanicThresholdGetsAHint() throws {
        let hints = ConfigHints.hints(for: try config("""
                replicas: [http://127.0.0.1:9001]
                health: { timeout: 1s }

            """))
        #expect(hints.count == 1)
        #expect(hints[0].hasPrefix("hint: upstream 'app': active checks time out after 1s"))
        #expect(hints[0].contains("panic_threshold"))
    }

    @Test func noHintWithAPanicThresholdALongTimeoutOrNoChecks() throws {
        #expect(ConfigHints.hints(for: try config("""
                replicas: [http://127.0.0.1:9001]
                health: { timeout: 1s }
                panic_threshold: 50%

            """)).isEmpty)
        #expect(ConfigHints.hints(for: try config("""
                replicas: [http://127.0.0.1:9001]
                health: { timeout: 2s }

            """)).isEmpty)
        #expect(ConfigHints.hints(for: try config("""
                replicas: [http://127.0.0.1:9001]

            """)).isEmpty)
    }

    @Test func durationText() {
        #expect(DurationFormat.text(.milliseconds(250)) == "250ms")
        #expect(DurationFormat.text(.seconds(1)) == "1s")
        #expect(DurationFormat.text(.milliseconds(1500)) == "1.5s")
    }
}
