import CoreMetrics
import GatewayConfig
import GatewayPolicies
import GatewayRedis
import GatewayTLS
import Logging
import NIOCore

/// The shared-state features (rate limits, sessions, pub/sub) wired for one process: Redis-backed when
/// `store.redis` is set (or `GATEWAY_REDIS_URL`), in-memory otherwise (one instance only).
struct SharedState: Sendable {
    let policies: any RequestPolicies
    let pubsub: (any PubSubEndpoint)?
    let admin: (any AdminExtensions)?
    /// The response cache (SPEC §11), Redis-shared when the store is Redis; nil without `cache:`.
    let cache: ResponseCache?
    let readiness: @Sendable () -> (ready: Bool, store: String, details: [(String, String)])
    let shutdown: @Sendable () async -> Void

    struct StartupError: Error, CustomStringConvertible {
        var description: String
    }

    static func make(
        configuration: GatewayConfiguration,
        environment: [String: String],
        group: any EventLoopGroup,
        logger: Logger
    ) throws -> SharedState {
        let store = configuration.store
        var redis: RedisClient? = nil
        var redisConfigurationForPubSub: RedisConfiguration? = nil
        if store.cluster != nil || store.sentinel != nil {
            let client = try StoreTopology.makeClient(store: store, environment: environment, group: group, logger: logger)
            client.start()
            redis = client
            redisConfigurationForPubSub = client.configuration
        } else if let url = store.redisURL {
            var redisConfiguration: RedisConfiguration
            do {
                redisConfiguration = try RedisConfiguration(storeURL: url, commandTimeout: store.commandTimeout.timeAmount)
            } catch {
                throw StartupError(description: "store.redis: \(error)")
            }
            if redisConfiguration.useTLS {
                do {
                    redisConfiguration.tls = try ClientTLSContext(spec: ClientTLSSpec(store.tls))
                } catch {
                    throw StartupError(description: "store.tls: \(error)")
                }
            }
            let client = RedisClient(configuration: redisConfiguration, group: group, logger: logger)
            client.start()
            redis = client
            redisConfigurationForPubSub = redisConfiguration
        }

        let limiter: any RateLimiter
        if let redis {
            let policy = store.onError
            limiter = StoreBackedRateLimiter(client: redis, policy: policy) { error in
                CoreMetrics.Counter(label: "gateway_store_errors_total", dimensions: [("op", "ratelimit")]).increment()
                // nil = skipped because the store is known to be down (already logged by the client): stay quiet.
                if let error {
                    logger.warning(
                        "rate-limit decision made without the store",
                        metadata: ["error": "\(error)", "on_error": "\(policy.rawValue)"])
                }
            }
        } else {
            limiter = LocalRateLimiter()
        }

        var sessions: GatewayPolicyPipeline.SessionComponents? = nil
        if let settings = configuration.sessions {
            let codec: SessionCookieCodec
            do {
                codec = try SessionCookieCodec(settings: settings, environment: environment)
            } catch {
                throw StartupError(description: "\(error)")
            }
            let expiry = SessionExpiry(settings)
            let sessionStore: any SessionStore =
                redis.map { RedisSessionStore(client: $0, keyPrefix: store.keyPrefix, expiry: expiry) }
                ?? MemorySessionStore(expiry: expiry)
            sessions = .init(store: sessionStore, codec: codec)
        }

        let redisClient = redis
        var pipeline = GatewayPolicyPipeline(
            keyPrefix: store.keyPrefix, limiter: limiter, sessions: sessions, logger: logger)
        pipeline.edge = EdgePolicies(
            environment: environment, group: group, redis: redis, keyPrefix: store.keyPrefix, logger: logger)
        var adminParts: [any AdminExtensions] = []
        if let sessions { adminParts.append(SessionAdmin(store: sessions.store)) }
        // One pub/sub hub per process: Redis fan-out across instances, or in-memory for a single instance.
        let hub: PubSubHub =
            if let redis, let redisConfigurationForPubSub {
                PubSubHub.redis(
                    client: redis, configuration: redisConfigurationForPubSub, keyPrefix: store.keyPrefix,
                    group: group, logger: logger)
            } else {
                PubSubHub.inMemory(logger: logger)
            }
        hub.configure(configuration)
        adminParts.append(PubSubAdmin(hub: hub))
        let cache = configuration.cache.map {
            ResponseCache(settings: $0, redis: redis, keyPrefix: store.keyPrefix, group: group, logger: logger)
        }
        if let cache { adminParts.append(CacheAdmin(cache: cache)) }

        return SharedState(
            policies: pipeline,
            pubsub: hub,
            admin: adminParts.isEmpty ? nil : CombinedAdminExtensions(parts: adminParts),
            cache: cache,
            readiness: {
                guard let redis = redisClient else { return (true, "memory", []) }
                let topology = redis.topology
                if topology.kind == "redis" {
                    return redis.isConnected ? (true, "redis", []) : (false, "redis_unreachable", [])
                }
                return (redis.isConnected, topology.kind, topology.details)
            },
            shutdown: {
                await hub.shutdown()
                await cache?.shutdown()
                await redisClient?.shutdown()
            })
    }
}
