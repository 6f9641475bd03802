import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Routes commands to the primary owning their hash slot in a Redis Cluster.
///
/// * One ``RedisNodeClient`` per node, i.e. one pipelined connection per node per event loop, created when the
///   node first appears in the slot map (or in a redirect).
/// * The slot map comes from `CLUSTER SLOTS` (asked of any reachable node: connected ones first, then the
///   seeds). It is refreshed every `refreshInterval`, after every `MOVED`, and after connection errors,
///   timeouts, `CLUSTERDOWN` and `TRYAGAIN` (at most one refresh in flight; repeated requests coalesce).
/// * `MOVED slot node`: the slot is re-pointed at once and the command retried there. `ASK slot node`: the
///   command is retried once on that node preceded by `ASKING` (the map is not changed: the slot is migrating).
///   At most ``maximumRedirects`` hops per command.
/// * Scripts are cached per node by Redis itself: `EVALSHA`, and on `NOSCRIPT` one `EVAL` on that node.
/// * A command for a node whose connection is down fails at once (`.unavailable`), like a single node does:
///   `store.on_error` decides, and the refresh it triggers finds the promoted replica.
final class RedisClusterRouter: Sendable {
    typealias Node = ClusterSlotMap.Node

    private struct State {
        var map = ClusterSlotMap()
        var clients: [Node: RedisNodeClient] = [:]
        /// `READONLY` connections to replicas (only with `readFromReplicas`).
        var readers: [Node: RedisNodeClient] = [:]
        var refreshing = false
        var refreshAgain = false
        var listeners: [@Sendable (ClusterSlotMap) -> Void] = []
        var isShutdown = false
        var timer: RepeatedTask?
    }

    static let maximumRedirects = 5
    /// Data-node settings (password, timeouts); the address is replaced per node.
    let template: RedisConfiguration
    let seeds: [Node]
    private let group: any EventLoopGroup
    private let logger: Logger
    private let events: RedisTopologyEvents
    private let refreshInterval: TimeAmount
    private let state = NIOLockedValueBox(State())
    /// `store.cluster.read_from_replicas`: ``read(_:slot:on:)`` goes to a replica of the slot's primary.
    let readFromReplicas: Bool

    init(seeds: [Node], template: RedisConfiguration, group: any EventLoopGroup, logger: Logger,
         events: RedisTopologyEvents, refreshInterval: TimeAmount = .seconds(1), readFromReplicas: Bool = false) {
        self.readFromReplicas = readFromReplicas
        self.seeds = seeds
        var template = template
        template.database = 0  // Cluster has only database 0
        self.template = template
        self.group = group
        self.logger = logger
        self.events = events
        self.refreshInterval = refreshInterval
    }

    func start() {
        for seed in seeds { _ = client(for: seed) }
        let timer = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: refreshInterval) {
            [weak self] _ in self?.requestRefresh()
        }
        let previous = state.withLockedValue { state in
            defer { state.timer = timer }
            return state.timer
        }
        previous?.cancel()
    }

    func shutdown() async {
        let (clients, timer) = state.withLockedValue { state in
            state.isShutdown = true
            return (Array(state.clients.values) + Array(state.readers.values), state.timer)
        }
        timer?.cancel()
        for client in clients { await client.shutdown() }
    }

    // MARK: Slot map

    var slotMap: ClusterSlotMap { state.withLockedValue { $0.map } }

    /// Called (from any thread) with every new slot map.
    func onSlotMapChange(_ listener: @escaping @Sendable (ClusterSlotMap) -> Void) {
        state.withLockedValue { $0.listeners.append(listener) }
    }

    /// The node client for `node`, created and started on first use (nil for an unparsable address or after
    /// shutdown).
    func client(for node: Node) -> RedisNodeClient? {
        state.withLockedValue { state -> RedisNodeClient? in
            if let client = state.clients[node] { return client }
            guard !state.isShutdown, let address = ClusterSlotMap.address(of: node) else { return nil }
            var configuration = template
            configuration.address = address
            let client = RedisNodeClient(configuration: configuration, group: group, logger: logger)
            state.clients[node] = client
            client.start()
            return client
        }
    }

    /// The `READONLY` client for replica `node`, created and started on first use (nil after shutdown).
    func reader(for node: Node) -> RedisNodeClient? {
        state.withLockedValue { state -> RedisNodeClient? in
            if let client = state.readers[node] { return client }
            guard !state.isShutdown, let address = ClusterSlotMap.address(of: node) else { return nil }
            var configuration = template
            configuration.address = address
            configuration.readOnly = true
            let client = RedisNodeClient(configuration: configuration, group: group, logger: logger)
            state.readers[node] = client
            client.start()
            return client
        }
    }

    /// The primary for `slot` per the current map (a seed while the map is unknown).
    func node(for slot: Int) -> Node? {
        state.withLockedValue { $0.map.primary(for: slot) } ?? seeds.first
    }

    var isConnected: Bool {
        let clients = state.withLockedValue { state in state.map.primaries.compactMap { state.clients[$0] } }
        return clients.contains { $0.isConnected }
    }

    /// (primaries in the map, of which connected, all nodes in the map).
    var status: (primaries: Int, connected: Int, nodes: Int, coversAllSlots: Bool) {
        let (map, clients) = state.withLockedValue { state in
            (state.map, state.map.primaries.compactMap { state.clients[$0] })
        }
        let nodes = Set(map.primaries).union(map.replicas).count
        return (map.primaries.count, clients.filter(\.isConnected).count, nodes, map.coversAllSlots)
    }

    /// Asks for a slot-map refresh; coalesces with one in flight.
    func requestRefresh() {
        let start = state.withLockedValue { state -> Bool in
            if state.isShutdown { return false }
            if state.refreshing {
                state.refreshAgain = true
                return false
            }
            state.refreshing = true
            return true
        }
        if start { refresh(candidates: refreshCandidates()) }
    }

    /// Connected nodes first (a dead primary answers nothing), then the rest, then the seeds.
    private func refreshCandidates() -> [Node] {
        let (map, clients) = state.withLockedValue { ($0.map, $0.clients) }
        var seen = Set<Node>()
        let all = (map.primaries + map.replicas.sorted() + seeds + clients.keys.sorted()).filter { seen.insert($0).inserted }
        let connected = all.filter { clients[$0]?.isConnected ?? false }
        return connected + all.filter { !(clients[$0]?.isConnected ?? false) }
    }

    private func refresh(candidates: [Node]) {
        guard let node = candidates.first else {
            finishRefresh(found: nil)
            return
        }
        let rest = Array(candidates.dropFirst())
        guard let client = client(for: node), case .tcp(let host, _)? = ClusterSlotMap.address(of: node) else {
            refresh(candidates: rest)
            return
        }
        client.send(["CLUSTER", "SLOTS"], on: group.next()).whenComplete { result in
            switch result {
            case .success(let reply):
                do {
                    let map = try ClusterSlotMap.parse(clusterSlots: reply, fallbackHost: host)
                    guard !map.isEmpty else { throw RedisError.protocolError("CLUSTER SLOTS: no slots assigned") }
                    self.finishRefresh(found: map)
                } catch {
                    self.logger.debug("cluster slot map unusable", metadata: ["node": "\(node)", "error": "\(error)"])
                    self.refresh(candidates: rest)
                }
            case .failure:
                self.refresh(candidates: rest)
            }
        }
    }

    private func finishRefresh(found map: ClusterSlotMap?) {
        var failover = false
        let (listeners, again, changed) = state.withLockedValue { state in
            var changed = false
            if let map, map != state.map {
                let old = state.map
                // A replica of the old map now owns slots: a failover (resharding moves slots between primaries).
                failover = !old.isEmpty && map.ranges.contains { old.replicas.contains($0.primary) }
                state.map = map
                changed = true
            }
            state.refreshing = false
            let again = state.refreshAgain || map == nil
            state.refreshAgain = false
            return (state.listeners, again, changed)
        }
        if let map, changed {
            logger.info("redis cluster slot map", metadata: ["primaries": "\(map.primaries)"])
            for primary in map.primaries { _ = client(for: primary) }
            if readFromReplicas { for replica in map.replicas { _ = reader(for: replica) } }
            if failover { events.failover() }
            for listener in listeners { listener(map) }
        }
        if again {
            // Coalesced requests (or no node answered): once more shortly, not in a tight loop.
            group.next().scheduleTask(in: .milliseconds(map == nil ? 200 : 100)) { self.requestRefresh() }
        }
    }

    // MARK: Commands

    /// Runs `operation` on the primary of `slot`, following redirects. `operation` gets the node client and
    /// whether the command must be preceded by `ASKING` (it sends it itself, on the same loop, so it is
    /// pipelined directly before the command).
    func execute(slot: Int, on eventLoop: any EventLoop,
                 _ operation: @escaping @Sendable (RedisNodeClient, _ asking: Bool) -> EventLoopFuture<RESPValue>)
        -> EventLoopFuture<RESPValue>
    {
        attempt(slot: slot, target: nil, asking: false, redirects: 0, on: eventLoop, operation)
    }

    private func attempt(slot: Int, target: Node?, asking: Bool, redirects: Int, on eventLoop: any EventLoop,
                         _ operation: @escaping @Sendable (RedisNodeClient, Bool) -> EventLoopFuture<RESPValue>)
        -> EventLoopFuture<RESPValue>
    {
        guard let node = target ?? node(for: slot), let client = client(for: node) else {
            return eventLoop.makeFailedFuture(state.withLockedValue { $0.isShutdown } ? RedisError.shutdown : .unavailable)
        }
        let sent: EventLoopFuture<RESPValue>
        if redirects > 0 && !client.isConnected {
            // A node first seen in a redirect: give it one command timeout to connect.
            sent = client.waitUntilConnected(on: eventLoop, timeout: template.commandTimeout).flatMap {
                operation(client, asking)
            }
        } else {
            sent = operation(client, asking)
        }
        return sent.flatMapError { error in
            switch error {
            case RedisError.server(let message):
                if let redirect = ClusterRedirect(errorMessage: message) {
                    self.events.redirect(redirect.kind)
                    guard redirects < Self.maximumRedirects else { return eventLoop.makeFailedFuture(error) }
                    if redirect.kind == .moved {
                        self.state.withLockedValue { $0.map.move(slot: redirect.slot, to: redirect.node) }
                        self.requestRefresh()
                    }
                    return self.attempt(slot: slot, target: redirect.node, asking: redirect.kind == .ask,
                                        redirects: redirects + 1, on: eventLoop, operation)
                }
                if message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("READONLY") {
                    self.requestRefresh()
                }
            case RedisError.unavailable, RedisError.connectionClosed, RedisError.timeout:
                self.requestRefresh()
            default:
                break
            }
            return eventLoop.makeFailedFuture(error)
        }
    }

    func send(_ arguments: [String], slot: Int, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        execute(slot: slot, on: eventLoop) { client, asking in
            if asking { _ = client.send(["ASKING"], on: eventLoop) }
            return client.send(arguments, on: eventLoop)
        }
    }

    func send(_ arguments: [ByteBuffer], slot: Int, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        execute(slot: slot, on: eventLoop) { client, asking in
            if asking { _ = client.send(["ASKING"], on: eventLoop) }
            return client.send(arguments, on: eventLoop)
        }
    }

    /// A read-only command that tolerates replication lag. With `readFromReplicas`: sent to a connected replica of
    /// the slot's primary (picked per event loop, so each loop spreads over the replicas), and on any error from
    /// it (`MOVED` after a resharding, a connection loss, `LOADING`) sent to the primary instead. Without
    /// `readFromReplicas`, or when the slot's primary has no connected replica: the primary, as `send` does.
    func read(_ arguments: [String], slot: Int, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        guard readFromReplicas, let replica = replica(for: slot, on: eventLoop) else {
            return send(arguments, slot: slot, on: eventLoop)
        }
        events.replicaRead()
        return replica.send(arguments, on: eventLoop).flatMapError { _ in
            self.send(arguments, slot: slot, on: eventLoop)
        }
    }

    /// A connected `READONLY` client of one of `slot`'s replicas, chosen by the event loop; nil when none is up.
    private func replica(for slot: Int, on eventLoop: any EventLoop) -> RedisNodeClient? {
        let (replicas, readers) = state.withLockedValue { state -> ([Node], [Node: RedisNodeClient]) in
            (state.map.replicas(for: slot), state.readers)
        }
        let up = replicas.compactMap { readers[$0] }.filter(\.isConnected)
        guard !up.isEmpty else {
            for node in replicas where readers[node] == nil { _ = reader(for: node) }
            return nil
        }
        return up[Int(UInt(bitPattern: ObjectIdentifier(eventLoop).hashValue) % UInt(up.count))]
    }

    /// EVALSHA on the slot's node; on `NOSCRIPT` one EVAL there (also preceded by `ASKING` during a migration).
    func evaluate(_ script: RedisScript, keys: [String], arguments: [String], slot: Int,
                  on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        var tail = [String(keys.count)]
        tail.reserveCapacity(1 + keys.count + arguments.count)
        tail.append(contentsOf: keys)
        tail.append(contentsOf: arguments)
        return execute(slot: slot, on: eventLoop) { [tail] client, asking in
            if asking { _ = client.send(["ASKING"], on: eventLoop) }
            return client.send(["EVALSHA", script.sha1] + tail, on: eventLoop).flatMapError { error in
                guard case RedisError.server(let message) = error, message.hasPrefix("NOSCRIPT") else {
                    return eventLoop.makeFailedFuture(error)
                }
                if asking { _ = client.send(["ASKING"], on: eventLoop) }
                return client.send(["EVAL", script.source] + tail, on: eventLoop)
            }
        }
    }

    /// EVALSHA with no declared keys on `node` (see ``RedisClient/evaluate(_:arguments:onClusterNode:on:)``); on
    /// `NOSCRIPT` one EVAL there. Connection errors ask for a slot-map refresh, like routed commands do.
    func evaluate(_ script: RedisScript, arguments: [String], node: Node, on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue>
    {
        guard let client = client(for: node) else {
            return eventLoop.makeFailedFuture(state.withLockedValue { $0.isShutdown } ? RedisError.shutdown : .unavailable)
        }
        return client.evaluate(script, keys: [], arguments: arguments, on: eventLoop).flatMapError { error in
            switch error {
            case RedisError.unavailable, RedisError.connectionClosed, RedisError.timeout:
                self.requestRefresh()
            case RedisError.server(let message)
                where message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("READONLY"):
                self.requestRefresh()
            default:
                break
            }
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Completes once the map is known and every primary's connection on `eventLoop` is up.
    func waitUntilConnected(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let deadline = NIODeadline.now() + timeout
        let promise = eventLoop.makePromise(of: Void.self)
        @Sendable func check() {
            let (map, clients) = state.withLockedValue { state in
                (state.map, state.map.primaries.compactMap { state.clients[$0] })
            }
            let ready = !map.isEmpty && map.coversAllSlots && clients.count == map.primaries.count
            guard ready else {
                if NIODeadline.now() >= deadline { return promise.fail(RedisError.timeout) }
                eventLoop.scheduleTask(in: .milliseconds(50)) { check() }
                return
            }
            let remaining = max(deadline - NIODeadline.now(), .milliseconds(1))
            EventLoopFuture.andAllSucceed(clients.map { $0.waitUntilConnected(on: eventLoop, timeout: remaining) },
                                          on: eventLoop).cascade(to: promise)
        }
        check()
        return promise.futureResult
    }
}
