import Foundation
import Testing

@testable import GatewayConfig

/// SPEC §2, verbatim.
let specExample = """
server:
  listen: 127.0.0.1:8080
  admin_listen: 127.0.0.1:9901        # admin API + /metrics; keep it on loopback
  max_header_bytes: 16KiB             # larger → 431
  max_body_bytes: 10MiB               # larger → 413 (routes may override)
  timeouts:
    client_header: 10s                # whole request head must arrive in this → 408, close
    client_idle: 60s                  # idle keep-alive connection closed
  shutdown_grace: 10s
  trusted_proxies: [127.0.0.1/32]     # X-Forwarded-For from these peers is believed
  access_log: stdout                  # stdout | false (none) | a file path; one JSON line per request

store:                                # shared state; omit `redis` → in-memory store (one instance only)
  redis: redis://127.0.0.1:6379/0     # redis://[user:pass@]host:port/db or unix:///path
  key_prefix: "gw:"
  command_timeout: 100ms
  on_error: allow                     # rate limits when Redis is unreachable: allow | deny | local

upstreams:
  app:
    balance: round_robin              # round_robin | least_conn | random_two | ip_hash | cookie
    replicas:
      - http://127.0.0.1:9001
      - { url: http://127.0.0.1:9002, weight: 2 }
    keepalive: 64                     # idle pooled connections per replica
    health:
      path: /health
      interval: 2s
      timeout: 1s
      unhealthy_after: 2              # consecutive failed checks
      healthy_after: 2                # consecutive passed checks
    passive:                          # on by default with these values; `passive: false` turns it off
      failures: 3                     # consecutive proxy failures (connect error, reset, 502/503/504)
      eject_for: 10s
    retries: 1                        # extra attempts on another replica, idempotent requests only

sessions:
  cookie: gw_session
  secret_env: GATEWAY_SESSION_SECRET  # HMAC key for the cookie
  idle_timeout: 30m
  absolute_timeout: 12h
  secure: false                       # true behind TLS

routes:
  - name: api-v1
    match: { path_prefix: /api/v1/ }  # also: path (exact), host, methods: [GET, POST]
    upstream: app
    strip_prefix: true                # /api/v1/users → /users upstream
    timeouts: { connect: 1s, response: 15s }   # response = until the upstream's response head
    compress: { min_bytes: 1024 }     # omitted or `false` = off; types default to text/*, json, js, xml, svg
    max_body_bytes: 50MiB             # overrides server.max_body_bytes for this route
    session: optional                 # off | optional | required | issue
    rate_limits:
      - { name: per-ip, key: client_ip, limit: 100, window: 1m }
      - { name: per-user, key: session_user, limit: 1000, window: 1h }
  - name: login
    match: { path: /api/v1/login, methods: [POST] }
    upstream: app
    strip_prefix: /api/v1             # a string strips exactly that prefix
    session: issue
    rate_limits:
      - { name: login, key: client_ip, limit: 5, window: 1m, burst: 5 }
  - name: socket
    match: { path_prefix: /socket/ }
    upstream: app
    websocket: true                   # upgrade is proxied to a replica
  - name: events
    match: { path: /ws }
    pubsub:
      subscribe: ["public:*", "chat:*", "user:{user}"]   # channel patterns; {user} = session user
      publish: ["chat:*"]
    session: optional

include: routes.d/*.yaml
"""

@Suite struct SpecExampleTests {
    @Test func specExampleParsesToTheExpectedModel() throws {
        let temp = TempConfig()
        defer { temp.remove() }
        let path = temp.write("gateway.yaml", specExample)
        let config = try ConfigLoader.load(path: path, environment: [:])

        #expect(config.server.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.server.adminListen == ListenAddress(host: "127.0.0.1", port: 9901))
        #expect(config.server.maxHeaderBytes == 16 * 1024)
        #expect(config.server.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.server.clientHeaderTimeout == .seconds(10))
        #expect(config.server.clientIdleTimeout == .seconds(60))
        #expect(config.server.shutdownGrace == .seconds(10))
        #expect(config.server.trustedProxies == [CIDRBlock(address: [127, 0, 0, 1], prefixLength: 32)])
        #expect(config.server.accessLog == .stdout)

        #expect(config.store.redisURL == "redis://127.0.0.1:6379/0")
        #expect(config.store.keyPrefix == "gw:")
        #expect(config.store.commandTimeout == .milliseconds(100))
        #expect(config.store.onError == .allow)

        #expect(config.upstreams.count == 1)
        let app = try #require(config.upstream(named: "app"))
        #expect(app.balance == .roundRobin)
        #expect(app.replicas == [
            ReplicaSettings(url: "http://127.0.0.1:9001", host: "127.0.0.1", port: 9001, weight: 1),
            ReplicaSettings(url: "http://127.0.0.1:9002", host: "127.0.0.1", port: 9002, weight: 2),
        ])
        #expect(app.keepalive == 64)
        #expect(app.health == HealthCheckSettings())
        #expect(app.passive?.failures == 3)
        #expect(app.passive?.ejectFor == .seconds(10))
        #expect(app.retries == 1)

        let sessions = try #require(config.sessions)
        #expect(sessions.cookie == "gw_session")
        #expect(sessions.secretEnv == "GATEWAY_SESSION_SECRET")
        #expect(sessions.idleTimeout == .seconds(1800))
        #expect(sessions.absoluteTimeout == .seconds(12 * 3600))
        #expect(sessions.secure == false)

        #expect(config.routes.map(\.name) == ["api-v1", "login", "socket", "events"])
        let api = config.routes[0]
        #expect(api.match.pathPrefix == "/api/v1/")
        #expect(api.match.path == nil)
        #expect(api.upstream == "app")
        #expect(api.stripPrefix == .matchedPrefix)
        #expect(api.timeouts.connect == .seconds(1))
        #expect(api.timeouts.response == .seconds(15))
        #expect(api.compress?.minBytes == 1024)
        #expect(api.compress?.types == CompressionSettings.defaultTypes)
        #expect(api.maxBodyBytes == 50 * 1024 * 1024)
        #expect(api.session == .optional)
        #expect(api.rateLimits == [
            RateLimitSettings(name: "per-ip", key: .clientIP, limit: 100, window: .seconds(60)),
            RateLimitSettings(name: "per-user", key: .sessionUser, limit: 1000, window: .seconds(3600)),
        ])
        #expect(api.rateLimits[0].burst == 100)
        #expect(api.location == SourceLocation(file: path, line: 45, column: 5))

        let login = config.routes[1]
        #expect(login.match.path == "/api/v1/login")
        #expect(login.match.methods == ["POST"])
        #expect(login.stripPrefix == .literal("/api/v1"))
        #expect(login.session == .issue)
        #expect(login.compress == nil)
        #expect(login.rateLimits.first?.burst == 5)

        let socket = config.routes[2]
        #expect(socket.websocket)
        #expect(socket.session == .off)

        let events = config.routes[3]
        #expect(events.upstream == nil)
        #expect(events.pubsub?.subscribe == ["public:*", "chat:*", "user:{user}"])
        #expect(events.pubsub?.publish == ["chat:*"])
        #expect(events.session == .optional)

        #expect(config.sourceFiles == [path])
    }

    @Test func summaryHasOneLinePerRoute() throws {
        let config = try ConfigLoader.load(yaml: specExample, path: "/nonexistent-dir/gateway.yaml", environment: [:])
        #expect(ConfigSummary.lines(for: config) == [
            "route api-v1: prefix /api/v1/ -> app (strip /api/v1/, session optional, 2 limits, gzip, max body 50MiB)",
            "route login: path /api/v1/login [POST] -> app (strip /api/v1, session issue, 1 limit)",
            "route socket: prefix /socket/ -> app (websocket)",
            "route events: path /ws -> pubsub (session optional, subscribe public:* chat:* user:{user}, publish chat:*)",
        ])
        #expect(ConfigSummary.overview(for: config) == "config OK: 4 routes, 1 upstream, store redis://127.0.0.1:6379/0, 1 file")
    }

    @Test func shippedConfigsLoad() throws {
        // Tests run from the package root.
        let root = FileManager.default.currentDirectoryPath
        let main = try ConfigLoader.load(path: root + "/conf/gateway.yaml", environment: [:])
        #expect(main.routes.map(\.name) == ["api-v1", "login", "socket", "events", "static", "assets"])
        #expect(main.upstreams.map(\.name) == ["app", "assets"])
        #expect(main.sourceFiles.count == 2)
        for example in ["minimal", "websocket-pubsub", "host-routing", "realtime"] {
            let config = try ConfigLoader.load(path: root + "/conf/examples/\(example).yaml", environment: [:])
            #expect(!config.routes.isEmpty)
        }
    }

    @Test func defaultsAndAlternativeForms() throws {
        let yaml = """
            server:
              listen: ":9000"
              admin_listen: false
              access_log: false
              trusted_proxies: ["10.1.2.3/8", "::1", "fd00::/8"]
              workers: 2
            upstreams:
              - name: a
                replicas: ["http://[::1]:81/"]
                passive: false
                health: true
            routes:
              web:
                match: { host: Example.COM }
                upstream: a
                compress: {}
                rate_limits:
                  - { key: "header:X-Key", limit: 3, window: 1.5s }
            """
        let config = try ConfigLoader.load(yaml: yaml, path: "/tmp/x/none.yaml", environment: [:])
        #expect(config.server.listen == ListenAddress(host: "0.0.0.0", port: 9000))
        #expect(config.server.adminListen == nil)
        #expect(config.server.accessLog == .off)
        #expect(config.server.trustedProxies.map(\.description) == ["10.0.0.0/8", "0:0:0:0:0:0:0:1/128", "fd00:0:0:0:0:0:0:0/8"])
        #expect(config.server.workers == 2)
        #expect(config.store.redisURL == nil)
        #expect(config.sessions == nil)
        let a = try #require(config.upstream(named: "a"))
        #expect(a.replicas == [ReplicaSettings(url: "http://[::1]:81", host: "::1", port: 81)])
        #expect(a.passive == nil)
        #expect(a.health == HealthCheckSettings())
        let web = config.routes[0]
        #expect(web.name == "web")
        #expect(web.match.host == "example.com")
        #expect(web.compress == CompressionSettings())
        #expect(web.rateLimits == [RateLimitSettings(name: "header:X-Key", key: .header("X-Key"), limit: 3, window: .milliseconds(1500))])
    }
}
