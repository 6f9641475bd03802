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
final class PubSubHub: PubSubEndpoint {
    private let fanout: LocalFanout
    private let client: RedisClient?
    private let subscriber: (any RedisChannelSubscriber)?
    /// `PUBLISH`, or `SPUBLISH` on a Redis Cluster (sharded pub/sub): the one place choosing it.
    private let publishCommand: ByteBuffer
    /// `{key_prefix}ch:`
    let channelPrefix: String
    let metrics: PubSubMetrics
    private let logger: Logger

    private init(client: RedisClient?, subscriber: (any RedisChannelSubscriber)?, fanout: LocalFanout, channelPrefix: String, logger: Logger) {
        self.client = client
        self.publishCommand = ByteBuffer(string: client?.publishCommand ?? "PUBLISH")
        self.subscriber = subscriber
        self.fanout = fanout
        self.channelPrefix = channelPrefix
        self.metrics = fanout.metrics
        self.logger = logger
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
            guard let data = PubSubData.fromRedisPayload(payload) else {
                fanout.metrics.dropped.increment()
                logger.warning(
                    "pub/sub message from Redis is not JSON; dropped", metadata: ["channel": "\(channel)"])
                return
            }
            fanout.deliver(channel, data: data)
        }
        subscriber.start()
        return PubSubHub(client: client, subscriber: subscriber, fanout: fanout, channelPrefix: prefix, logger: logger)
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
        let arguments = [publishCommand, ByteBuffer(string: channelPrefix + channel), payload]
        let metrics = self.metrics
        return client.send(arguments, on: eventLoop).map { _ in metrics.published.increment() }
    }

    /// Subscribers of `channel` in this process (for the admin answer and tests).
    func localSubscriberCount(_ channel: String) -> Int {
        fanout.subscriberCount(channel)
    }

    func shutdown() async {
        await subscriber?.shutdown()
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
    func deliver(_ channel: String, data: ByteBuffer) {
        metrics.received.increment()
        let members = state.withLockedValue { $0.channels[channel] } ?? []
        guard !members.isEmpty else { return }
        let frame = PubSubFrames.message(channel: channel, data: data, allocator: allocator)
        let delivered = metrics.delivered
        for member in members {
            let subscribers = member.subscribers
            subscribers.eventLoop.execute {
                let count = subscribers.value.deliver(channel, frame: frame)
                if count > 0 { delivered.increment(by: count) }
            }
        }
    }
}
