import Testing

@testable import GatewayConfig

/// `server.listeners`, `server.hsts`, `store.tls`, upstream `tls` (SPEC §7).
@Suite struct TLSConfigTests {
    func load(_ yaml: String) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: [:])
    }

    @Test func specExampleShape() throws {
        let config = try load("""
            server:
              listen: 127.0.0.1:8080
              listeners:
                - address: 0.0.0.0:8443
                  tls:
                    certificates:
                      - { cert: certs/site.pem, key: certs/site-key.pem }
                      - { cert: /etc/api.pem,  key: /etc/api-key.pem }
                    min_version: "1.3"
                    client_ca: certs/clients.pem
                  http2: true
                - address: 0.0.0.0:8081
                  redirect_https: 8443
              hsts: { max_age: 8760h, include_subdomains: true }
              http2: { max_concurrent_streams: 100, max_header_list_bytes: 16KiB }
            upstreams:
              secure:
                replicas: [https://127.0.0.1:9443]
                tls: { ca_file: certs/internal-ca.pem, server_name: app.internal, client_cert: c.pem, client_key: k.pem }
                protocol: http1
            store:
              redis: rediss://127.0.0.1:6380/0
              tls: { ca_file: certs/redis-ca.pem }
            """)
        let server = config.server
        #expect(server.effectiveListeners.map(\.address.description) == ["127.0.0.1:8080", "0.0.0.0:8443", "0.0.0.0:8081"])
        let tls = try #require(server.listeners[0].tls)
        #expect(tls.certificates.map(\.certificate) == ["/cfg/certs/site.pem", "/etc/api.pem"])
        #expect(tls.certificates.map(\.key) == ["/cfg/certs/site-key.pem", "/etc/api-key.pem"])
        #expect(tls.minVersion == .tls13)
        #expect(tls.clientCA == "/cfg/certs/clients.pem")
        #expect(server.listeners[0].http2 == true)
        #expect(server.listeners[1].redirectHTTPS == 8443)
        #expect(server.hsts?.headerValue == "max-age=31536000; includeSubDomains")
        let upstream = try #require(config.upstream(named: "secure"))
        #expect(upstream.replicas[0].tls)
        #expect(upstream.tls?.caFile == "/cfg/certs/internal-ca.pem")
        #expect(upstream.tls?.serverName == "app.internal")
        #expect(upstream.tls?.clientKey == "/cfg/k.pem")
        #expect(config.store.tls?.caFile == "/cfg/certs/redis-ca.pem")
    }

    @Test func listenersWithoutListenBindOnlyThem() throws {
        let config = try load("""
            server:
              listeners:
                - address: :8443
                  tls: { certificates: [{ cert: a.pem, key: a-key.pem }] }
            """)
        #expect(config.server.effectiveListeners.map(\.address.description) == ["0.0.0.0:8443"])
        #expect(config.server.listeners[0].tls?.minVersion == .tls12)
        #expect(try load("server: { listen: 127.0.0.1:9 }").server.effectiveListeners.count == 1)
        #expect(try load("server: {}").server.effectiveListeners.map(\.address.description) == ["127.0.0.1:8080"])
    }

    @Test func mistakesAreReportedWithPositions() {
        let lines = errorLines("""
            server:
              listeners:
                - address: nowhere
                - tls: { certificates: [] }
                - address: :8443
                  tls:
                    certificates: [{ cert: a.pem }]
                    min_version: "1.1"
                    ciphers: all
                - address: :8080
                  redirect_https: 0
                - address: :8081
                  redirect_https: 443
                  tls: { certificates: [{ cert: a.pem, key: k.pem }] }
              hsts: { max_age: soon }
            upstreams:
              app:
                replicas: [http://127.0.0.1:9001]
                insecure_skip_verify: true
                protocol: h2
            store:
              tls: { client_cert: c.pem }
            """)
        #expect(lines == [
            "/cfg/gateway.yaml:3:16: 'address': 'nowhere' needs a port: write HOST:PORT, [IPV6]:PORT or :PORT",
            "/cfg/gateway.yaml:4:7: server.listeners[] is missing required key 'address'",
            "/cfg/gateway.yaml:7:24: tls.certificates[] is missing required key 'key'",
            "/cfg/gateway.yaml:8:22: 'min_version' must be \"1.2\" or \"1.3\" (TLS 1.0 and 1.1 are not offered), got a string '1.1'",
            "/cfg/gateway.yaml:9:9: unknown key 'ciphers' in tls; expected one of: certificates, min_version, client_ca",
            "/cfg/gateway.yaml:11:23: 'redirect_https' must be at least 1, got 0",
            "/cfg/gateway.yaml:13:23: 'redirect_https' is for plain listeners; this one has 'tls'",
            "/cfg/gateway.yaml:15:20: 'max_age' must be a duration like 250ms, 2s, 1m or 1h: 'soon' is not a duration",
            "/cfg/gateway.yaml:18:5: upstream 'app': 'tls' and 'insecure_skip_verify' apply to https:// replicas; it has none",
            "/cfg/gateway.yaml:20:15: 'protocol': only http1 is supported so far (h2 upstreams and gRPC are not implemented yet), got 'h2'",
            "/cfg/gateway.yaml:22:8: 'store.tls': client_cert and client_key go together",
        ])
    }

    @Test func clientCertIsARateLimitKey() throws {
        let config = try load("""
            upstreams: { app: { replicas: [http://127.0.0.1:9001] } }
            routes:
              - name: api
                match: { path_prefix: / }
                upstream: app
                rate_limits: [{ name: per_client, key: client_cert, limit: 5, window: 1s }]
            """)
        #expect(config.routes[0].rateLimits[0].key == .clientCert)
        #expect(RateLimitKey.clientCert.description == "client_cert")
    }
}
