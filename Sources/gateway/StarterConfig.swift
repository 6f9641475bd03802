/// The commented starter configuration `gateway init` writes: one upstream (the `--upstream` URLs are its
/// replicas), one route for everything, the admin API on loopback, no Redis. It passes `gateway check`.
enum StarterConfig {
    static func text(upstreams: [String], listen: String, adminListen: String) -> String {
        let replicas = (upstreams.isEmpty ? ["http://127.0.0.1:3000"] : upstreams)
            .map { "      - \($0)" }.joined(separator: "\n")
        return """
            # yaml-language-server: $schema=./gateway.schema.json
            # (editors complete and check keys with it; create it with: gateway schema > gateway.schema.json)
            # A starter configuration written by `gateway init`. Check it with `gateway check --config FILE`,
            # run it with `gateway serve --config FILE`. Every key: docs/configuration.md.
            # Durations: 250ms, 2s, 1m, 1h. Sizes: 512, 16KiB, 10MiB. Unknown keys are errors.

            server:
              listen: \(listen)                # HOST:PORT, [IPV6]:PORT or :PORT (all interfaces)
              admin_listen: \(adminListen)      # health, readiness, /metrics, /upstreams, reload; keep it on loopback
              max_body_bytes: 10MiB             # larger request bodies get 413
              timeouts:
                client_header: 10s              # the request head must arrive within this (else 408)
                client_idle: 60s                # idle keep-alive connections are closed after this
              access_log: stdout                # stdout | stderr | false | PATH, or { path: PATH, format: json | combined }

            # store:                            # shared state for several instances (rate limits, sessions, pub/sub)
            #   redis: redis://127.0.0.1:6379/0 # omitted = in-memory, this instance only

            upstreams:
              app:
                balance: round_robin            # round_robin | least_conn | random_two | ip_hash | cookie
                replicas:                       # http://host:port; { url: ..., weight: N } for weights
            \(replicas)
                health:                         # active checks; remove the block to rely on passive checks only
                  path: /health
                  interval: 5s

            routes:
              - name: app
                match: { path_prefix: / }       # also: path (exact), host, methods: [GET, POST]
                upstream: app
                # compress: true                # gzip text/JSON responses of at least 1 KiB
                # rate_limits:
                #   - { name: per-ip, key: client_ip, limit: 100, window: 1m }

            """
    }
}

