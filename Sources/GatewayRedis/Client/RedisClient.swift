import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The gateway's Redis client, whatever the topology behind it:
/// * **single node**: one pipelined connection per event loop (``RedisNodeClient``);
/// * **Cluster**: commands routed by hash slot to the owning primary, redirects followed
///   (``RedisClusterRouter``); every multi-key command must keep its keys in one slot;
/// * **Sentinel**: the connections follow the primary the sentinels announce and check `ROLE` on every
///   (re)connect; a `READONLY` reply (a demoted primary) drops the connection and asks the sentinels again.
///
/// Callers send the same commands in every mode. In a Cluster, `send` routes by the command's first argument
/// after the name (the key or channel of `GET`, `SET`, `SPUBLISH`, …); `evaluate` routes by its first key.
public final class RedisClient: Sendable {
    enum Mode: Sendable {
        case node(RedisNodeClient)
        case cluster(RedisClusterRouter)
        case sentinel(RedisNodeClient, RedisSentinelMonitor)
    }

    /// Single node: the configuration. Cluster/Sentinel: the data-node template (its address is not used).
    public let configuration: RedisConfiguration
    let mode: Mode
    private let group: any EventLoopGroup
    private let logger: Logger

    /// One Redis node.
    public init(configuration: RedisConfiguration, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.mode = .node(RedisNodeClient(configuration: configuration, group: group, logger: logger))
    }

    /// A Redis Cluster reached through `seeds` (`host:port`; the rest is discovered). `template` supplies
    /// password and timeouts for every node.
    /// `readFromReplicas`: ``read(_:on:)`` goes to replicas (`READONLY` connections); everything else to primaries.
    public init(clusterSeeds seeds: [String], template: RedisConfiguration, group: any EventLoopGroup, logger: Logger,
                events: RedisTopologyEvents = RedisTopologyEvents(), readFromReplicas: Bool = false) {
        self.configuration = template
        self.group = group
        self.logger = logger
        self.mode = .cluster(RedisClusterRouter(seeds: seeds, template: template, group: group, logger: logger,
                                                events: events, readFromReplicas: readFromReplicas))
    }

    /// The primary of a Sentinel group.
    public init(sentinel: RedisSentinelConfiguration, group: any EventLoopGroup, logger: Logger,
                events: RedisTopologyEvents = RedisTopologyEvents()) {
        self.configuration = sentinel.data
        self.group = group
        self.logger = logger
        let monitor = RedisSentinelMonitor(configuration: sentinel, group: group, logger: logger, events: events)
        let data = RedisNodeClient(configuration: sentinel.data, group: group, logger: logger,
                                   addressProvider: { monitor.primary }, requirePrimary: true,
                                   onWrongRole: { monitor.resolve() })
        monitor.onSwitch { data.reconnectNow() }
        self.mode = .sentinel(data, monitor)
    }

    /// Starts connecting in the background. Idempotent.
    public func start() {
        switch mode {
        case .node(let node): node.start()
        case .cluster(let router): router.start()
        case .sentinel(let node, let monitor):
            monitor.start()
            node.start()
        }
    }

    public func send(_ arguments: [String], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        switch mode {
        case .node(let node): return node.send(arguments, on: eventLoop)
        case .cluster(let router):
            let slot = arguments.count > 1 ? RedisHashSlot.slot(for: arguments[1]) : Int.random(in: 0..<RedisHashSlot.count)
            return router.send(arguments, slot: slot, on: eventLoop)
        case .sentinel(let node, let monitor):
            return watchReadOnly(node.send(arguments, on: eventLoop), node, monitor)
        }
    }

    /// A read-only command whose caller accepts a slightly stale answer (replication lag). In a Cluster with
    /// `store.cluster.read_from_replicas: true` it goes to a replica of the key's primary (falling back to the
    /// primary on any error from the replica); everywhere else it is `send`. Only use it where staleness is
    /// harmless: never for data the same client may just have written and must see (sessions, history recovery).
    public func read(_ arguments: [String], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        guard case .cluster(let router) = mode, arguments.count > 1 else { return send(arguments, on: eventLoop) }
        return router.read(arguments, slot: RedisHashSlot.slot(for: arguments[1]), on: eventLoop)
    }

    /// Binary-safe variant of `send(_:on:)`.
    public func send(_ arguments: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        switch mode {
        case .node(let node): return node.send(arguments, on: eventLoop)
        case .cluster(let router):
            let slot = arguments.count > 1 ? Self.slot(of: arguments[1]) : Int.random(in: 0..<RedisHashSlot.count)
            return router.send(arguments, slot: slot, on: eventLoop)
        case .sentinel(let node, let monitor):
            return watchReadOnly(node.send(arguments, on: eventLoop), node, monitor)
        }
    }

    /// EVALSHA with transparent NOSCRIPT fallback (per node in a Cluster). In a Cluster all `keys` must share
    /// a slot (Redis refuses the call with `CROSSSLOT` otherwise); the call goes to the slot of `keys[0]`.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String],
                         on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        switch mode {
        case .node(let node): return node.evaluate(script, keys: keys, arguments: arguments, on: eventLoop)
        case .cluster(let router):
            let slot = keys.first.map(RedisHashSlot.slot(for:)) ?? Int.random(in: 0..<RedisHashSlot.count)
            return router.evaluate(script, keys: keys, arguments: arguments, slot: slot, on: eventLoop)
        case .sentinel(let node, let monitor):
            return watchReadOnly(node.evaluate(script, keys: keys, arguments: arguments, on: eventLoop), node, monitor)
        }
    }

    /// Cluster only: the primary that owns `key`'s slot per the current slot map (`host:port`); nil otherwise.
    /// Lets callers batch commands of many slots per node (see ``evaluate(_:arguments:onClusterNode:on:)``).
    public func clusterNode(forKey key: String) -> String? {
        guard case .cluster(let router) = mode else { return nil }
        return router.node(for: RedisHashSlot.slot(for: key))
    }

    /// Cluster only: EVALSHA with no declared keys on one node, NOSCRIPT fallback as usual, no redirects (there
    /// is no key to redirect). For scripts flagged `allow-cross-slot-keys` that touch keys of several slots the
    /// node owns: Redis still checks every key a script touches and answers a key the node does not serve (a
    /// slot that moved, or one migrating away whose key is already gone) with an error, which such a script
    /// catches with `redis.pcall` and reports, so the caller can retry that part through ``evaluate(_:keys:arguments:on:)``.
    /// Fails with `.unavailable` when not in Cluster mode.
    public func evaluate(_ script: RedisScript, arguments: [String], onClusterNode node: String,
                         on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        guard case .cluster(let router) = mode else { return eventLoop.makeFailedFuture(RedisError.unavailable) }
        return router.evaluate(script, arguments: arguments, node: node, on: eventLoop)
    }

    /// Cluster only: asks for a slot-map refresh (e.g. after a script reported keys its node no longer serves).
    public func refreshClusterSlots() {
        if case .cluster(let router) = mode { router.requestRefresh() }
    }

    /// A demoted primary answers writes with `READONLY`: reconnect (the handshake's `ROLE` check keeps the
    /// connection down until the sentinels name the new primary) and ask the sentinels now.
    private func watchReadOnly(_ future: EventLoopFuture<RESPValue>, _ node: RedisNodeClient,
                               _ monitor: RedisSentinelMonitor) -> EventLoopFuture<RESPValue> {
        future.flatMapErrorThrowing { error in
            if case RedisError.server(let message) = error, message.hasPrefix("READONLY") {
                monitor.resolve()
                node.reconnectNow()
            }
            throw error
        }
    }

    /// The hash slot of `key` in Cluster mode; nil for a single node or Sentinel (everything is one "slot").
    public func clusterSlot(forKey key: String) -> Int? {
        if case .cluster = mode { return RedisHashSlot.slot(for: key) }
        return nil
    }

    public var isCluster: Bool {
        if case .cluster = mode { return true }
        return false
    }

    /// Single node / Sentinel: the loop connections are up somewhere; Cluster: at least one primary is reachable
    /// (commands for an unreachable shard fail individually and follow `store.on_error`).
    public var isConnected: Bool {
        switch mode {
        case .node(let node): return node.isConnected
        case .cluster(let router): return router.isConnected
        case .sentinel(let node, _): return node.isConnected
        }
    }

    /// What `/readyz` reports: `"store":"redis"|"cluster"|"sentinel"` and the topology's details as JSON members
    /// (`"nodes":6,"primaries":3,"primaries_up":3` or `"master":"host:port"`).
    public var topology: (kind: String, details: [(String, String)]) {
        switch mode {
        case .node: return ("redis", [])
        case .cluster(let router):
            let status = router.status
            return ("cluster", [("nodes", String(status.nodes)), ("primaries", String(status.primaries)),
                                ("primaries_up", String(status.connected)),
                                ("all_slots_covered", status.coversAllSlots ? "true" : "false")])
        case .sentinel(_, let monitor):
            let master: String
            switch monitor.primary {
            case .tcp(let host, let port)?: master = host.contains(":") ? "\"[\(host)]:\(port)\"" : "\"\(host):\(port)\""
            case .unix(let path)?: master = "\"unix://\(path)\""
            case nil: master = "null"
            }
            return ("sentinel", [("master", master)])
        }
    }

    /// The command publishing to a channel: `SPUBLISH` (sharded pub/sub) in a Cluster, `PUBLISH` otherwise.
    public var publishCommand: String { isCluster ? "SPUBLISH" : "PUBLISH" }

    /// The pub/sub side for this topology: one subscriber connection (following Sentinel's primary), or sharded
    /// pub/sub with one connection per shard in a Cluster. `onMessage` runs on `eventLoop`.
    public func makeSubscriber(eventLoop: any EventLoop,
                               onMessage: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void)
        -> any RedisChannelSubscriber
    {
        switch mode {
        case .node(let node):
            return RedisSubscriber(configuration: node.configuration, eventLoop: eventLoop, logger: logger,
                                   onMessage: onMessage)
        case .cluster(let router):
            return RedisClusterSubscriber(router: router, eventLoop: eventLoop, logger: logger, onMessage: onMessage)
        case .sentinel(let node, let monitor):
            let subscriber = RedisSubscriber(configuration: node.configuration, eventLoop: eventLoop, logger: logger,
                                             sharded: false, addressProvider: { monitor.primary },
                                             events: SubscriberEvents(), onMessage: onMessage)
            monitor.onSwitch { subscriber.reconnectNow() }
            return subscriber
        }
    }

    /// Completes when this loop's connections are up (Cluster: the slot map is known and every primary is
    /// connected); fails with `.timeout` after `timeout`.
    public func waitUntilConnected(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        switch mode {
        case .node(let node), .sentinel(let node, _): return node.waitUntilConnected(on: eventLoop, timeout: timeout)
        case .cluster(let router): return router.waitUntilConnected(on: eventLoop, timeout: timeout)
        }
    }

    /// Closes every connection and stops reconnecting; later commands fail with `.shutdown`.
    public func shutdown() async {
        switch mode {
        case .node(let node): await node.shutdown()
        case .cluster(let router): await router.shutdown()
        case .sentinel(let node, let monitor):
            await monitor.shutdown()
            await node.shutdown()
        }
    }

    static func slot(of key: ByteBuffer) -> Int {
        key.withUnsafeReadableBytes { RedisHashSlot.slot(forBytes: $0.bindMemory(to: UInt8.self)) }
    }
}
