import GatewayConfig
import GatewayRedis
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The process-wide pub/sub hub (SPEC §5). One per process.
///
/// * Redis mode: ONE `RedisSubscriber` connection; Redis channel `{key_prefix}ch:CHANNEL` is subscribed while at
///   least one local client wants CHANNEL and unsubscribed after the last one leaves. A publish is
///   `PUBLISH {key_prefix}ch:CHANNEL {"data":…}` through the pipelined `RedisClient` (so backends using redis-cli and
///   other instances interoperate) and comes back to local subscribers through the subscription like everyone
///   else's; after a reconnect the subscriber restores its subscriptions by itself.
/// * In-memory mode: the same, with the local fan-out called directly.
///
/// Fan-out: each message is parsed and framed ONCE, then one task per event loop that has subscribers writes the
/// same `ByteBuffer` to every subscriber of that loop (`LoopSubscribers`).
///
/// ```swift
/// let hub = PubSubHub.redis(client: client, configuration: redisConfiguration, keyPrefix: "gw:", group: group, logger: logger)
/// let admin = PubSubAdmin(hub: hub)           // POST /publish/CHANNEL
/// ```
final class PubSubHub: RealtimeEndpoint {
    private let fanout: LocalFanout
    private let client: RedisClient?
    private let subscriber: (any RedisChannelSubscriber)?
    /// `PUBLISH`, or `SPUBLISH` on a Redis Cluster (sharded pub/sub): the one place choosing it.
    private let publishCommand: String
    /// `{key_prefix}ch:`
    let channelPrefix: String
    let metrics: PubSubMetrics
    private let logger: Logger
    /// History channels of the in-memory store (unused with Redis).
    private let memoryHistory = MemoryHistory()
    let presence: PresenceTracker
    /// Which channels keep history: from the configuration, refreshed when a reload swaps the snapshot.
    private let policies = NIOLockedValueBox<(version: Int, policies: ChannelPolicies)>((0, .empty))
    private let snapshots = NIOLockedValueBox<SnapshotHolder?>(nil)

    private init(client: RedisClient?, subscriber: (any RedisChannelSubscriber)?, fanout: LocalFanout, channelPrefix: String, logger: Logger) {
        self.client = client
        self.publishCommand = client?.publishCommand ?? "PUBLISH"
        self.subscriber = subscriber
        self.fanout = fanout
        self.channelPrefix = channelPrefix
        self.metrics = fanout.metrics
        self.logger = logger
        self.presence = PresenceTracker(client: client) { channelPrefix + $0 }
    }

    /// Takes the history channels of `configuration` (at start) and follows `snapshots` afterwards (reloads).
    func configure(_ configuration: GatewayConfiguration, snapshots holder: SnapshotHolder? = nil) {
        policies.withLockedValue { $0 = (holder?.current.version ?? 0, ChannelPolicies(configuration: configuration)) }
        snapshots.withLockedValue { $0 = holder }
    }

    private var currentPolicies: ChannelPolicies {
        guard let holder = snapshots.withLockedValue({ $0 }) else { return policies.withLockedValue { $0.policies } }
        let snapshot = holder.current
        return policies.withLockedValue { cached in
            if cached.version != snapshot.version {
                cached = (snapshot.version, ChannelPolicies(configuration: snapshot.configuration))
            }
            return cached.policies
        }
    }

    /// Single instance, no Redis: publishes reach this process's subscribers only.
    static func inMemory(logger: Logger) -> PubSubHub {
        PubSubHub(client: nil, subscriber: nil, fanout: LocalFanout(), channelPrefix: "", logger: logger)
    }

    /// Shared through Redis. Starts the subscriber connection (on one loop of `group`); `client` is the process's
    /// command client (its owner starts and shuts it down). The client picks the pub/sub flavour for its
    /// topology (`client.makeSubscriber`: SUBSCRIBE on one node / Sentinel's primary, SSUBSCRIBE per shard on a
    /// Cluster); `configuration` is not needed any more (the client knows its nodes).
    static func redis(
        client: RedisClient,
        configuration: RedisConfiguration,
        keyPrefix: String,
        group: any EventLoopGroup,
        logger: Logger
    ) -> PubSubHub {
        let fanout = LocalFanout()
        let prefix = keyPrefix + "ch:"
        let subscriber = client.makeSubscriber(eventLoop: group.next()) { redisChannel, payload in
            guard redisChannel.hasPrefix(prefix) else { return }
            let channel = String(redisChannel.utf8.dropFirst(prefix.utf8.count))!
            switch RealtimePayload.parse(payload) {
            case .message(let data, let position):
                fanout.deliver(channel, data: data, position: position)
            case .presence(let kind, let member):
                fanout.deliverPresence(channel, kind, member)
            case nil:
                fanout.metrics.dropped.increment()
                logger.warning(
                    "pub/sub message from Redis is not JSON; dropped", metadata: ["channel": "\(channel)"])
            }
        }
        subscriber.start()
        let hub = PubSubHub(client: client, subscriber: subscriber, fanout: fanout, channelPrefix: prefix, logger: logger)
        hub.presence.start(on: group.next())
        return hub
    }

    var isRedis: Bool { subscriber != nil }

    /// Whether the subscriber connection is up (always true in memory).
    var isConnected: Bool { subscriber?.isConnected ?? true }

    func subscribe(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        let key = channelPrefix + channel
        guard let redis = self.subscriber else {
            fanout.add(channel, subscriber, on: eventLoop) {}
            return eventLoop.makeSucceededVoidFuture()
        }
        var confirmation: EventLoopFuture<Void>? = nil
        fanout.add(channel, subscriber, on: eventLoop) { confirmation = redis.subscribe(key) }
        // Not the process's first subscriber: the channel is subscribed already, or its confirmation is pending.
        return (confirmation ?? redis.subscribe(key)).hop(to: eventLoop)
    }

    func unsubscribe(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop) {
        let key = channelPrefix + channel
        fanout.remove(channel, subscriber, on: eventLoop) { [redis = self.subscriber] in redis?.unsubscribe(key) }
    }

    func publish(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard historyLimits(for: channel) == nil else {
            return publishReturningPosition(channel, data: data, on: eventLoop).map { _ in }
        }
        return publishPlain(channel, data: data, on: eventLoop)
    }

    private func publishPlain(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let client else {
            metrics.published.increment()
            fanout.deliver(channel, data: data)
            return eventLoop.makeSucceededVoidFuture()
        }
        var data = data
        var payload = ByteBuffer()
        payload.reserveCapacity(data.readableBytes + 9)
        payload.writeStaticString("{\"data\":")
        payload.writeBuffer(&data)
        payload.writeStaticString("}")
        let arguments = [ByteBuffer(string: publishCommand), ByteBuffer(string: channelPrefix + channel), payload]
        let metrics = self.metrics
        return client.send(arguments, on: eventLoop).map { _ in metrics.published.increment() }
    }

    /// Subscribers of `channel` in this process (for the admin answer and tests).
    func localSubscriberCount(_ channel: String) -> Int {
        fanout.subscriberCount(channel)
    }

    func shutdown() async {
        presence.stop()
        await subscriber?.shutdown()
    }

    // MARK: History and presence (SPEC §9)

    func historyLimits(for channel: String) -> HistoryLimits? {
        currentPolicies.historyLimits(for: channel)
    }

    func publishReturningPosition(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop)
        -> EventLoopFuture<StreamPosition?>
    {
        guard let limits = historyLimits(for: channel) else {
            return publishPlain(channel, data: data, on: eventLoop).map { nil }
        }
        let metrics = self.metrics
        guard let client else {
            metrics.published.increment()
            let fanout = self.fanout
            let position = memoryHistory.append(channel, data: data, limits: limits) { position in
                fanout.deliver(channel, data: data, position: position)
            }
            return eventLoop.makeSucceededFuture(position)
        }
        let redisChannel = channelPrefix + channel
        let keys = HistoryKeys(redisChannel: redisChannel)
        let arguments = [
            redisChannel, String(buffer: data), String(limits.size), String(limits.ttlMilliseconds),
            StreamPosition.newEpoch(), publishCommand,
        ]
        return client.evaluate(HistoryScripts.publish, keys: [keys.stream, keys.meta], arguments: arguments, on: eventLoop)
            .flatMapThrowing { reply in
                guard let items = reply.array, items.count == 2, let offset = items[0].int, offset > 0,
                    let epoch = items[1].string
                else { throw RedisError.server("unexpected reply of the history publish script: \(reply)") }
                metrics.published.increment()
                return StreamPosition(offset: UInt64(offset), epoch: epoch)
            }
    }

    func readHistory(_ channel: String, query: HistoryQuery, create: Bool, on eventLoop: any EventLoop)
        -> EventLoopFuture<HistoryRead>
    {
        let limits = historyLimits(for: channel)
        PubSubMetrics.historyReads.increment()
        guard let client else {
            return eventLoop.makeSucceededFuture(memoryHistory.read(channel, query: query, limits: limits, create: create))
        }
        let keys = HistoryKeys(redisChannel: channelPrefix + channel)
        let (mode, n): (String, String) =
            switch query {
            case .after(let offset): ("after", String(offset))
            case .last(let count): ("last", String(count))
            case .position: ("position", "0")
            }
        let ttl = String(limits?.ttlMilliseconds ?? 600_000)
        return client.evaluate(
            HistoryScripts.read, keys: [keys.stream, keys.meta],
            arguments: [mode, n, StreamPosition.newEpoch(), ttl, create ? "1" : "0"], on: eventLoop
        ).flatMapThrowing { reply in
            guard let read = HistoryScripts.parseRead(reply, query: query) else {
                throw RedisError.server("unexpected reply of the history read script")
            }
            return read
        }
    }

    func presenceJoin(_ channel: String, _ member: PresenceMember, route: String, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        presence.join(channel, member, route: route, on: eventLoop, announce: announcer(channel, member, on: eventLoop))
    }

    func presenceLeave(_ channel: String, _ member: PresenceMember, on eventLoop: any EventLoop) {
        presence.leave(channel, member, on: eventLoop, announce: announcer(channel, member, on: eventLoop))
    }

    func presenceMembers(_ channel: String, on eventLoop: any EventLoop) -> EventLoopFuture<[String]> {
        presence.members(channel, on: eventLoop)
    }

    /// Publishes a join/leave on the channel (Redis: to every instance; memory: locally).
    private func announcer(_ channel: String, _ member: PresenceMember, on eventLoop: any EventLoop)
        -> @Sendable (RealtimePayload.PresenceEvent) -> EventLoopFuture<Void>
    {
        let client = self.client
        let fanout = self.fanout
        let redisChannel = channelPrefix + channel
        let publishCommand = self.publishCommand
        return { kind in
            guard let client else {
                fanout.deliverPresence(channel, kind, member)
                return eventLoop.makeSucceededVoidFuture()
            }
            let payload = RealtimePayload.presencePayload(kind, member)
            return client.send([publishCommand, redisChannel, payload], on: eventLoop).map { _ in }
        }
    }
}

/// The process's subscriber registry: which loops have subscribers of which channel (under a lock), and each loop's
/// own `LoopSubscribers` (loop-bound, no lock).
final class LocalFanout: Sendable {
    private struct Member: Sendable {
        let subscribers: NIOLoopBound<LoopSubscribers>
        var count: Int
    }

    private struct State {
        /// Loops that have ≥ 1 subscriber of the channel, with how many (a handful of entries: one per loop).
        var channels: [String: [Member]] = [:]
        var loops: [ObjectIdentifier: NIOLoopBound<LoopSubscribers>] = [:]
    }

    private let state = NIOLockedValueBox(State())
    let metrics = PubSubMetrics()
    private let allocator = ByteBufferAllocator()

    private func loopSubscribers(for eventLoop: any EventLoop) -> NIOLoopBound<LoopSubscribers> {
        state.withLockedValue { state in
            if let existing = state.loops[ObjectIdentifier(eventLoop)] { return existing }
            let created = NIOLoopBound(LoopSubscribers(eventLoop: eventLoop), eventLoop: eventLoop)
            state.loops[ObjectIdentifier(eventLoop)] = created
            return created
        }
    }

    /// On `eventLoop`. `first` runs (under the lock, so subscribe/unsubscribe reach Redis in order) when the channel
    /// gets its first subscriber in the process.
    func add(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop, first: () -> Void) {
        let bound = loopSubscribers(for: eventLoop)
        switch bound.value.add(channel, subscriber) {
        case .alreadySubscribed:
            return
        case .added:
            state.withLockedValue { state in
                if let index = state.channels[channel]?.firstIndex(where: { $0.subscribers.eventLoop === eventLoop }) {
                    state.channels[channel]![index].count += 1
                }
            }
            return
        case .firstOnLoop:
            break
        }
        state.withLockedValue { state in
            let wasEmpty = state.channels[channel]?.isEmpty ?? true
            state.channels[channel, default: []].append(Member(subscribers: bound, count: 1))
            if wasEmpty { first() }
        }
    }

    /// On `eventLoop`. `last` runs (under the lock) when the channel lost its last subscriber in the process.
    func remove(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop, last: () -> Void) {
        let bound = loopSubscribers(for: eventLoop)
        let before = bound.value.count(of: channel)
        let emptied = bound.value.remove(channel, subscriber)
        guard before != bound.value.count(of: channel) || emptied else { return }
        state.withLockedValue { state in
            guard var members = state.channels[channel],
                let index = members.firstIndex(where: { $0.subscribers.eventLoop === eventLoop })
            else { return }
            if emptied {
                members.remove(at: index)
            } else {
                members[index].count -= 1
            }
            if members.isEmpty {
                state.channels.removeValue(forKey: channel)
                last()
            } else {
                state.channels[channel] = members
            }
        }
    }

    func subscriberCount(_ channel: String) -> Int {
        state.withLockedValue { $0.channels[channel]?.reduce(0) { $0 + $1.count } ?? 0 }
    }

    /// Frames `data` once and hands the frame to every loop with subscribers of `channel` (one task per loop).
    func deliver(_ channel: String, data: ByteBuffer, position: StreamPosition? = nil) {
        metrics.received.increment()
        let members = state.withLockedValue { $0.channels[channel] } ?? []
        guard !members.isEmpty else { return }
        let frame = PubSubFrames.message(channel: channel, data: data, position: position, allocator: allocator)
        hand(PubSubDelivery(channel: channel, frame: frame, data: data, kind: .message(position: position)), to: members)
    }

    /// A join/leave, framed once, to every local subscriber of `channel` (each decides whether to show it).
    func deliverPresence(_ channel: String, _ kind: RealtimePayload.PresenceEvent, _ member: PresenceMember) {
        let members = state.withLockedValue { $0.channels[channel] } ?? []
        guard !members.isEmpty else { return }
        let frame = PubSubFrames.presenceEvent(kind, channel: channel, member: member, allocator: allocator)
        hand(PubSubDelivery(channel: channel, frame: frame, data: ByteBuffer(), kind: .presence(kind, member)), to: members)
    }

    private func hand(_ delivery: PubSubDelivery, to members: [Member]) {
        let delivered = metrics.delivered
        for member in members {
            let subscribers = member.subscribers
            subscribers.eventLoop.execute {
                let count = subscribers.value.deliver(delivery)
                if count > 0 { delivered.increment(by: count) }
            }
        }
    }
}
