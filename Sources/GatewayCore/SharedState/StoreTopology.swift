import CoreMetrics
import GatewayConfig
import GatewayRedis
import Logging
import NIOCore

/// Builds the Redis client for `store.cluster` / `store.sentinel` (SPEC §8), with the topology metrics
/// `gateway_store_redirects_total{kind="moved|ask"}`, `gateway_store_failovers_total` and (Cluster)
/// `gateway_store_replica_reads_total`.
enum StoreTopology {
    static func makeClient(store: StoreSettings, environment: [String: String], group: any EventLoopGroup,
                           logger: Logger) throws -> RedisClient {
        let moved = CoreMetrics.Counter(label: "gateway_store_redirects_total", dimensions: [("kind", "moved")])
        let ask = CoreMetrics.Counter(label: "gateway_store_redirects_total", dimensions: [("kind", "ask")])
        let failovers = CoreMetrics.Counter(label: "gateway_store_failovers_total")
        // Present (at 0) from the start, so dashboards see the series before the first event.
        moved.increment(by: 0)
        ask.increment(by: 0)
        failovers.increment(by: 0)
        let replicaReads = CoreMetrics.Counter(label: "gateway_store_replica_reads_total")
        if store.cluster != nil { replicaReads.increment(by: 0) }
        let events = RedisTopologyEvents(
            redirect: { kind in (kind == .moved ? moved : ask).increment() },
            failover: {
                failovers.increment()
                logger.warning("redis failover: a replica is the primary now")
            },
            replicaRead: { replicaReads.increment() })
        let timeout = store.commandTimeout.timeAmount

        if let cluster = store.cluster {
            var seeds: [String] = []
            var template: RedisConfiguration? = nil
            for url in cluster.seedURLs {
                let parsed: RedisConfiguration
                do {
                    parsed = try RedisConfiguration(url: url, commandTimeout: timeout)
                } catch {
                    throw SharedState.StartupError(description: "store.cluster.nodes: \(error)")
                }
                guard case .tcp(let host, let port) = parsed.address else {
                    throw SharedState.StartupError(description: "store.cluster.nodes: \(url): cluster nodes are host:port")
                }
                seeds.append(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
                if template == nil { template = parsed }
            }
            guard let template else { throw SharedState.StartupError(description: "store.cluster.nodes is empty") }
            return RedisClient(clusterSeeds: seeds, template: template, group: group, logger: logger, events: events,
                               readFromReplicas: cluster.readFromReplicas)
        }

        guard let sentinel = store.sentinel else {
            throw SharedState.StartupError(description: "store: neither cluster nor sentinel is configured")
        }
        func secret(_ name: String?, _ key: String) throws -> String? {
            guard let name else { return nil }
            guard let value = environment[name], !value.isEmpty else {
                throw SharedState.StartupError(description: "store.sentinel.\(key): environment variable \(name) is not set")
            }
            return value
        }
        let sentinels: [RedisConfiguration.Address] = sentinel.nodes.compactMap { text in
            HostPort.parse(text).map { .tcp(host: $0.host, port: $0.port) }
        }
        let data = RedisConfiguration(
            address: sentinels.first ?? .tcp(host: "127.0.0.1", port: 6379),  // replaced by the sentinels' answer
            password: try secret(sentinel.passwordEnv, "password_env"), database: sentinel.database,
            commandTimeout: timeout)
        let configuration = RedisSentinelConfiguration(
            masterName: sentinel.master, sentinels: sentinels,
            sentinelPassword: try secret(sentinel.sentinelPasswordEnv, "sentinel_password_env"), data: data)
        return RedisClient(sentinel: configuration, group: group, logger: logger, events: events)
    }
}
