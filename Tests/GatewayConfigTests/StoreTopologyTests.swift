import Testing

@testable import GatewayConfig

/// `store.cluster` / `store.sentinel` (SPEC §8): shapes, "exactly one of", positions of errors.
@Suite struct StoreTopologyTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: baseUpstream + yaml, path: "/cfg/gateway.yaml", environment: environment)
    }

    @Test func specExampleShapesLoad() throws {
        let cluster = try load("""
            store:
              cluster:
                nodes: [redis://127.0.0.1:7000, 127.0.0.1:7001, "redis://:pw@[::1]:7002"]
                read_from_replicas: false
              key_prefix: "gw:"
            """)
        #expect(cluster.store.cluster?.nodes == ["redis://127.0.0.1:7000", "127.0.0.1:7001", "redis://:pw@[::1]:7002"])
        #expect(cluster.store.cluster?.seedURLs[1] == "redis://127.0.0.1:7001")
        #expect(cluster.store.redisURL == nil && cluster.store.sentinel == nil)

        let sentinel = try load("""
            store:
              sentinel:
                master: mymaster
                nodes: [127.0.0.1:26379, 127.0.0.1:26380, 127.0.0.1:26381]
                db: 2
                password_env: REDIS_PASSWORD
                sentinel_password_env: SENTINEL_PASSWORD
              command_timeout: 100ms
              on_error: deny
            """)
        #expect(sentinel.store.sentinel == SentinelStoreSettings(
            master: "mymaster", nodes: ["127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"], database: 2,
            passwordEnv: "REDIS_PASSWORD", sentinelPasswordEnv: "SENTINEL_PASSWORD"))
    }

    @Test func exactlyOneTopology() {
        let lines = errorLines(baseUpstream + """
            store:
              redis: redis://127.0.0.1:6379
              sentinel:
                master: m
                nodes: [127.0.0.1:26379]
            """)
        #expect(lines == ["/cfg/gateway.yaml:6:3: store: exactly one of redis | cluster | sentinel may be set (found redis and sentinel)"])
    }

    @Test func badClusterAndSentinelValuesNamePositions() {
        let values = errorLines(baseUpstream + """
            store:
              cluster:
                nodes: [127.0.0.1:7000, "redis://h:7001/3", "rediss://h:1"]
                read_from_replicas: maybe
            """)
        #expect(values.count == 3, "\(values)")
        #expect(values.contains { $0.hasPrefix("/cfg/gateway.yaml:6:29: 'nodes': 'redis://h:7001/3': a Redis Cluster has only database 0") })
        #expect(values.contains { $0.hasPrefix("/cfg/gateway.yaml:6:49: 'nodes': ") && $0.contains("TLS") })
        #expect(values.contains { $0.hasPrefix("/cfg/gateway.yaml:7:25: 'read_from_replicas'") })
        let cluster = errorLines(baseUpstream + """
            store:
              cluster:
                nodes: [127.0.0.1:7000, nohost]
                replicas: 1
            """)
        #expect(cluster.count == 2)
        #expect(cluster.contains("/cfg/gateway.yaml:6:29: 'nodes': 'nohost' is not redis://host:port or host:port"))
        #expect(cluster.contains { $0.hasPrefix("/cfg/gateway.yaml:7:5: unknown key 'replicas' in store.cluster") })

        #expect(errorLines(baseUpstream + """
            store:
              cluster: {}
            """) == ["/cfg/gateway.yaml:5:12: store.cluster is missing required key 'nodes'"])
        #expect(errorLines(baseUpstream + """
            store:
              cluster: { nodes: [] }
            """) == ["/cfg/gateway.yaml:5:21: 'nodes' must list at least one cluster node"])

        let sentinel = errorLines(baseUpstream + """
            store:
              sentinel:
                nodes: ["127.0.0.1"]
                db: -1
            """)
        #expect(sentinel.contains("/cfg/gateway.yaml:6:5: store.sentinel is missing required key 'master'"))
        #expect(sentinel.contains("/cfg/gateway.yaml:6:12: 'nodes': '127.0.0.1' is not host:port"))
        #expect(sentinel.contains("/cfg/gateway.yaml:7:9: 'db' must be at least 0, got -1"))
    }

    @Test func environmentRedisURLReplacesTheTopology() throws {
        let config = try load("""
            store:
              cluster: { nodes: [127.0.0.1:7000] }
            """, environment: ["GATEWAY_REDIS_URL": "redis://127.0.0.1:6380/1"])
        #expect(config.store.redisURL == "redis://127.0.0.1:6380/1")
        #expect(config.store.cluster == nil && config.store.sentinel == nil)
    }

    @Test func hostPortParser() {
        #expect(HostPort.parse("127.0.0.1:26379")! == ("127.0.0.1", 26379))
        #expect(HostPort.parse("[::1]:1")! == ("::1", 1))
        for bad in ["", "host", ":1", "h:0", "h:65536", "h:x", "::1:5", "[::1", "a/b:1", "u@h:1", "[]:1"] {
            #expect(HostPort.parse(bad) == nil, "\(bad)")
        }
    }
}
