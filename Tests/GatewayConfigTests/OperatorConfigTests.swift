import Foundation
import Testing

@testable import GatewayConfig

/// Issue 18: the configuration side of the operator findings (#1, #2, #9, #14, #15) and the schema.
@Suite struct OperatorConfigTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: environment)
    }

    // #1: stderr is the inherited descriptor, not `/dev/stderr` opened as a file.
    @Test func accessLogStderrIsItsOwnTarget() throws {
        let config = try load("server: { access_log: stderr }\n")
        #expect(config.server.accessLog == .stderr)
        #expect(config.server.accessLogFormat == .json)
    }

    @Test func accessLogMappingWithCombinedFormat() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let config = try load("server:\n  access_log: { path: \(directory)/access.log, format: combined }\n")
        #expect(config.server.accessLog == .file(path: "\(directory)/access.log"))
        #expect(config.server.accessLogFormat == .combined)
        let stdout = try load("server:\n  access_log: { format: combined }\n")
        #expect(stdout.server.accessLog == .stdout)
    }

    @Test func accessLogBadFormatAndUnknownKeyArePositioned() {
        let lines = errorLines("server:\n  access_log: { path: stdout, format: clf, rotate: daily }\n")
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:2:44: unknown key 'rotate' in access_log") })
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:2:39: 'format' must be one of json, combined, got 'clf'") })
    }

    // #2: a log file that cannot be opened is a config error (check says so; serve does not start).
    @Test func accessLogInAMissingDirectoryIsAnError() {
        let lines = errorLines("server:\n  access_log: /nonexistent-dir/access.log\n")
        #expect(
            lines == [
                "/cfg/gateway.yaml:2:15: 'access_log': directory '/nonexistent-dir' does not exist (create it, or log to stdout/stderr)"
            ])
    }

    @Test func accessLogThatIsADirectoryIsAnError() {
        let lines = errorLines("server:\n  access_log: { path: /tmp }\n")
        #expect(lines.first?.contains("'/tmp' is a directory") == true)
    }

    // #14: a URL where an upstream name belongs gets the way out.
    @Test func upstreamURLInARouteExplainsUpstreamsBlock() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: r
                match: { path_prefix: / }
                upstream: http://127.0.0.1:9001
            """)
        #expect(lines.count == 1)
        #expect(lines[0].hasPrefix("/cfg/gateway.yaml:7:15: route 'r': unknown upstream 'http://127.0.0.1:9001'; 'upstream' takes the name of an upstream (defined: app), not a URL: declare it under 'upstreams:'"))
    }

    // #15: `path_prefix: /api` also matches `/apix`: a warning (not an error) with a position.
    @Test func prefixWithoutTrailingSlashWarns() throws {
        let config = try load(baseUpstream + """
            routes:
              - name: r
                match: { path_prefix: /api }
                upstream: app
              - name: s
                match: { path_prefix: /static/ }
                upstream: app
              - name: all
                match: { path_prefix: / }
                upstream: app
            """)
        #expect(config.warnings.count == 1)
        #expect(
            config.warnings.first?.description
                == "/cfg/gateway.yaml:6:27: 'path_prefix: /api' also matches '/apix' and '/api-anything'; end it with '/' ('/api/') to match only below it, or add a 'path: /api' route for the exact path")
    }

    // #9: a missing secret is one positioned line, with the `sessions:` prefix once.
    @Test func missingSessionSecretIsPositionedAndNotDoubled() throws {
        let config = try load(baseUpstream + "sessions:\n  cookie: sid\n")
        let problems = StartupChecks.problems(config, environment: [:])
        #expect(problems.count == 1)
        let line = problems[0].description
        #expect(line.hasPrefix("/cfg/gateway.yaml:5:3: sessions: environment variable GATEWAY_SESSION_SECRET (named by sessions.secret_env) is not set"))
        #expect(!line.contains("sessions: sessions:"))
        #expect(StartupChecks.problems(config, environment: ["GATEWAY_SESSION_SECRET": String(repeating: "x", count: 32)]).isEmpty)
        let short = StartupChecks.problems(config, environment: ["GATEWAY_SESSION_SECRET": "short"])
        #expect(short.first?.message == "sessions: the secret in GATEWAY_SESSION_SECRET is 5 bytes; it must be at least 32 bytes")
    }

    @Test func schemaIsJSONAndClosed() throws {
        let object = try JSONSerialization.jsonObject(with: Data(ConfigSchema.json().utf8)) as? [String: Any]
        #expect(object?["additionalProperties"] as? Bool == false)
        let definitions = object?["definitions"] as? [String: Any]
        #expect(definitions?["namedRoute"] != nil)
    }
}
