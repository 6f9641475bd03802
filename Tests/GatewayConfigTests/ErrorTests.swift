import Foundation
import Testing

@testable import GatewayConfig

/// Loads `yaml` as `/cfg/gateway.yaml` and returns the error lines (empty when it loads).
func errorLines(_ yaml: String, environment: [String: String] = [:]) -> [String] {
    do {
        _ = try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: environment)
        return []
    } catch let errors as ConfigErrors {
        return errors.errors.map(\.description)
    } catch {
        return ["unexpected: \(error)"]
    }
}

let baseUpstream = """
    upstreams:
      app:
        replicas: [http://127.0.0.1:9001]

    """

@Suite struct ErrorTests {
    @Test func unknownKeySuggestsTheClosestName() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: r
                match: { path_prefix: / }
                upstream: app
                rate_limits:
                  - { name: a, key: client_ip, limt: 5, window: 1m }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:9:9: rate limit is missing required key 'limit'",
            "/cfg/gateway.yaml:9:36: unknown key 'limt' in rate limit (did you mean 'limit'?)",
        ])
    }

    @Test func unknownTopLevelKeyAndNestedKey() {
        let lines = errorLines("""
            sever:
              listen: :80
            server:
              listn: :80
              timeouts: { client_idel: 5s }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:1:1: unknown key 'sever' in the top level (did you mean 'server'?)",
            "/cfg/gateway.yaml:4:3: unknown key 'listn' in server (did you mean 'listen'?)",
            "/cfg/gateway.yaml:5:15: unknown key 'client_idel' in server.timeouts (did you mean 'client_idle'?)",
        ])
    }

    @Test func wrongTypesNameTheExpectedType() {
        let lines = errorLines(baseUpstream + """
            server:
              workers: many
              max_body_bytes: lots
              shutdown_grace: 10
              access_log: [a]
            routes:
              - name: r
                match: /x
                upstream: app
                websocket: "yes"
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:5:12: 'workers' must be an integer, got a string 'many'",
            "/cfg/gateway.yaml:6:19: 'max_body_bytes' must be a size like 512, 16KiB or 10MiB: 'lots' is not a size (e.g. 512, 16KiB, 10MiB)",
            "/cfg/gateway.yaml:7:19: 'shutdown_grace' must be a duration like 250ms, 2s, 1m or 1h: '10' needs a unit (ms, s, m or h), e.g. '10s'",
            "/cfg/gateway.yaml:8:15: 'access_log' must be a string, got a list",
            "/cfg/gateway.yaml:11:12: 'match' must be a mapping, got a string",
            "/cfg/gateway.yaml:13:16: 'websocket' must be true or false, got a string 'yes'",
        ])
    }

    @Test func enumValuesAreChecked() {
        let lines = errorLines("""
            store: { on_error: alow }
            upstreams:
              app:
                balance: roundrobin
                replicas: [http://127.0.0.1:9001]
            routes:
              - { name: r, match: { path: /x }, upstream: app, session: maybe }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:1:20: 'on_error' must be one of allow, deny, local, got 'alow' (did you mean 'allow'?)",
            "/cfg/gateway.yaml:4:14: 'balance' must be one of round_robin, least_conn, random_two, ip_hash, cookie, got 'roundrobin' (did you mean 'round_robin'?)",
            "/cfg/gateway.yaml:7:61: 'session' must be one of off, optional, required, issue, got 'maybe'",
        ])
    }

    @Test func routeUpstreamMustExist() {
        let lines = errorLines(baseUpstream + """
            routes:
              - { name: r, match: { path: /x }, upstream: ap }
              - { name: s, match: { path: /y } }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:5:47: route 'r': unknown upstream 'ap' (did you mean 'app'?)",
            "/cfg/gateway.yaml:6:5: route 's' needs an 'upstream' (or a 'pubsub' or 'static' block)",
        ])
    }

    @Test func websocketAndPubsubAreExclusiveAndPubsubNeedsNoUpstream() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: ws
                match: { path: /ws }
                websocket: true
                upstream: app
                pubsub: { subscribe: ["a:*"] }
              - name: ok
                match: { path: /ok }
                pubsub: { publish: "a:*" }
            """)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("/cfg/gateway.yaml:7:16: route 'ws': 'websocket' and 'pubsub' cannot be combined"))
        #expect(lines[1].hasPrefix("/cfg/gateway.yaml:8:15: route 'ws': a pubsub route is answered by the gateway; remove 'upstream'"))
    }

    @Test func sessionsAreRequiredBySessionModesAndSessionUserKeys() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: r
                match: { path: /x }
                upstream: app
                session: required
                rate_limits: [{ key: session_user, limit: 1, window: 1s }]
              - name: p
                match: { path: /p }
                pubsub: { subscribe: ["user:{user}"] }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:8:14: route 'r': 'session: required' needs a top-level 'sessions' block",
            "/cfg/gateway.yaml:9:26: rate limit key 'session_user' needs a top-level 'sessions' block",
            "/cfg/gateway.yaml:12:27: route 'p': channel patterns with {user} need 'session' optional, required or issue",
        ])
        let withSessions = errorLines(baseUpstream + """
            sessions: {}
            routes:
              - name: r
                match: { path: /x }
                upstream: app
                rate_limits: [{ key: session_user, limit: 1, window: 1s }]
              - name: p
                match: { path: /p }
                pubsub: { subscribe: ["user:{user}"] }
            """)
        #expect(withSessions == [
            "/cfg/gateway.yaml:9:26: rate limit key 'session_user' needs the route's 'session' to be optional, required or issue",
            "/cfg/gateway.yaml:12:27: route 'p': channel patterns with {user} need 'session' optional, required or issue",
        ])
    }

    @Test func upstreamAndReplicaChecks() {
        let lines = errorLines("""
            upstreams:
              empty:
                replicas: []
              none:
                balance: random_two
              bad:
                replicas:
                  - https://127.0.0.1
                  - http://127.0.0.1
                  - http://127.0.0.1:80/api
                  - { url: http://127.0.0.1:80, weight: 0 }
                  - ftp://x:1
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:3:15: upstream 'empty' needs at least one replica",
            "/cfg/gateway.yaml:5:5: upstream 'none' needs at least one replica ('replicas' is missing)",
            "/cfg/gateway.yaml:8:9: 'url': 'https://127.0.0.1' must look like http://host:port ('127.0.0.1' needs a port: write HOST:PORT, [IPV6]:PORT or :PORT)",
            "/cfg/gateway.yaml:9:9: 'url': 'http://127.0.0.1' must look like http://host:port ('127.0.0.1' needs a port: write HOST:PORT, [IPV6]:PORT or :PORT)",
            "/cfg/gateway.yaml:10:9: 'url': 'http://127.0.0.1:80/api': a replica URL cannot have a path; write http://host:port",
            "/cfg/gateway.yaml:11:45: 'weight' must be at least 1, got 0",
            "/cfg/gateway.yaml:12:9: 'url': 'ftp://x:1' must look like http://host:port or https://host:port",
        ])
    }

    @Test func rateLimitValuesMustBePositive() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: r
                match: { path: /x }
                upstream: app
                rate_limits:
                  - { name: a, key: client_ip, limit: 0, window: 0s }
                  - { name: b, key: ip, limit: 1, window: 1s }
                  - { name: c, key: "header:", limit: 1, window: 1s }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:9:43: 'limit' must be at least 1, got 0",
            "/cfg/gateway.yaml:9:54: 'window' must be longer than 0",
            "/cfg/gateway.yaml:10:25: 'key' must be one of client_ip, session_user, route, client_cert, header:NAME or jwt:CLAIM, got 'ip'",
            "/cfg/gateway.yaml:11:25: 'key': 'header:NAME' needs a header name, e.g. header:X-Api-Key",
        ])
    }

    @Test func matchAndStripPrefixChecks() {
        let lines = errorLines(baseUpstream + """
            routes:
              - { name: a, match: { path: /x, path_prefix: /y }, upstream: app }
              - { name: b, match: { methods: [GET] }, upstream: app }
              - { name: c, match: { path: x }, upstream: app, strip_prefix: true }
              - { name: d, match: { host: example.com }, upstream: app }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:5:31: a route matches either 'path' (exact) or 'path_prefix', not both",
            "/cfg/gateway.yaml:6:23: 'match' needs 'path', 'path_prefix' or 'host'",
            "/cfg/gateway.yaml:7:31: 'path' must start with '/', got 'x'",
            "/cfg/gateway.yaml:7:65: 'strip_prefix: true' needs 'match.path_prefix' (or give the prefix to strip as a string)",
        ])
    }

    @Test func listenRedisAndCIDRErrors() {
        let lines = errorLines("""
            server:
              listen: ::1:80
              admin_listen: localhost
              trusted_proxies: [10.0.0.0/33, nonsense]
            store:
              redis: http://localhost:6379
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:2:11: 'listen': '::1:80': put IPv6 addresses in brackets, e.g. [::1]:8080",
            "/cfg/gateway.yaml:3:17: 'admin_listen': 'localhost' needs a port: write HOST:PORT, [IPV6]:PORT or :PORT",
            "/cfg/gateway.yaml:4:21: 'trusted_proxies': '10.0.0.0/33': prefix length must be 0...32",
            "/cfg/gateway.yaml:4:34: 'trusted_proxies': 'nonsense' is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1/128)",
            "/cfg/gateway.yaml:6:10: 'redis': 'http://localhost:6379' must look like redis://host:port/db, rediss://host:port/db or unix:///path",
        ])
    }

    @Test func yamlSyntaxErrorsHavePositions() {
        let lines = errorLines("server:\n  listen: [1, 2\n")
        #expect(lines.count == 1)
        #expect(lines[0].hasPrefix("/cfg/gateway.yaml:3:1: YAML syntax error"))
        let duplicate = errorLines("server:\n  listen: :1\n  listen: :2\n")
        #expect(duplicate == ["/cfg/gateway.yaml:3:3: duplicate key 'listen' in the same mapping"])
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.load(path: "/nonexistent/gateway.yaml", environment: [:])
        }
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/gateway.yaml", environment: [:])
        } catch let errors as ConfigErrors {
            #expect(errors.description == "/nonexistent/gateway.yaml:1:1: cannot read config file: no such file")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func allErrorsAreCollectedInPositionOrder() {
        let lines = errorLines("""
            routes:
              - { name: r, match: { path: /x }, upstream: nope }
            server:
              workers: -1
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:2:47: route 'r': unknown upstream 'nope' (no upstreams are defined)",
            "/cfg/gateway.yaml:4:12: 'workers' must be at least 0, got -1",
        ])
    }
}
