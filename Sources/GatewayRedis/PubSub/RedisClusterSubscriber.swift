import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Sharded pub/sub on a Redis Cluster: each channel is `SSUBSCRIBE`d on the primary owning its slot, with one
/// subscriber connection per shard that has channels (all on one event loop, like the single-node subscriber).
///
/// Channels follow their slot: after every slot-map change (failover, resharding) each channel whose owner
/// changed is unsubscribed from the old node and subscribed on the new one. A `sunsubscribe` push the gateway
/// did not ask for (Redis drops sharded subscriptions of a slot that moved away) or a `-MOVED` error reply
/// triggers a slot-map refresh, and the channel is placed again once the new map is known.
public final class RedisClusterSubscriber: RedisChannelSubscriber {
    private let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<ClusterSubscriberCore>
    private let active: NIOLockedValueBox<[RedisSubscriber]>

    init(router: RedisClusterRouter, eventLoop: any EventLoop, logger: Logger,
         onMessage: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void) {
        self.eventLoop = eventLoop
        let active = NIOLockedValueBox<[RedisSubscriber]>([])
        self.active = active
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            ClusterSubscriberCore(router: router, eventLoop: eventLoop, logger: logger, active: active,
                                  onMessage: onMessage),
            eventLoop: eventLoop)
        let core = self.core
        router.onSlotMapChange { _ in eventLoop.execute { core.value.reassign() } }
    }

    public func start() {}

    @discardableResult
    public func subscribe(_ channel: String) -> EventLoopFuture<Void> {
        let core = self.core
        if eventLoop.inEventLoop { return core.value.subscribe(channel, box: core) }
        return eventLoop.flatSubmit { core.value.subscribe(channel, box: core) }
    }

    public func unsubscribe(_ channel: String) {
        let core = self.core
        if eventLoop.inEventLoop { core.value.unsubscribe(channel) } else { eventLoop.execute { core.value.unsubscribe(channel) } }
    }

    /// Every shard connection in use is up.
    public var isConnected: Bool { active.withLockedValue { $0.allSatisfy(\.isConnected) } }

    public func shutdown() async {
        let core = self.core
        let subscribers = (try? await eventLoop.submit { core.value.stop() }.get()) ?? []
        for subscriber in subscribers { await subscriber.shutdown() }
    }
}

/// Loop-bound state of ``RedisClusterSubscriber``.
final class ClusterSubscriberCore {
    typealias Node = ClusterSlotMap.Node
    private let router: RedisClusterRouter
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let onMessage: @Sendable (String, ByteBuffer) -> Void
    private let active: NIOLockedValueBox<[RedisSubscriber]>
    /// Desired channels → the node they are subscribed on (nil: waiting for the slot map).
    private var channels: [String: Node?] = [:]
    private var subscribers: [Node: RedisSubscriber] = [:]
    private var isStopped = false
    weak var box: NIOLoopBoundBox<ClusterSubscriberCore>?

    init(router: RedisClusterRouter, eventLoop: any EventLoop, logger: Logger,
         active: NIOLockedValueBox<[RedisSubscriber]>, onMessage: @escaping @Sendable (String, ByteBuffer) -> Void) {
        self.router = router
        self.eventLoop = eventLoop
        self.logger = logger
        self.active = active
        self.onMessage = onMessage
    }

    /// `box`: this core's own box, for the callbacks of the shard subscribers it creates.
    func subscribe(_ channel: String, box: NIOLoopBoundBox<ClusterSubscriberCore>) -> EventLoopFuture<Void> {
        self.box = box
        if let placed = channels[channel], let node = placed, let subscriber = subscribers[node] {
            return subscriber.subscribe(channel)
        }
        guard let node = router.node(for: RedisHashSlot.slot(for: channel)), !isStopped else {
            channels[channel] = .some(nil)
            return eventLoop.makeSucceededVoidFuture()
        }
        channels[channel] = node
        let subscriber = subscriber(for: node)
        guard !subscriber.isConnected else { return subscriber.subscribe(channel) }
        // A shard connection made just now (or reconnecting): give it a moment, so the caller's confirmation
        // means "subscribed" in the normal case; if it stays down, the reconnect subscribes by itself.
        return subscriber.waitUntilConnected(timeout: Self.connectWait).flatMap {
            subscriber.subscribe(channel)
        }.recover { _ in }.hop(to: eventLoop)
    }

    static let connectWait: TimeAmount = .seconds(2)

    func unsubscribe(_ channel: String) {
        guard let placed = channels.removeValue(forKey: channel) else { return }
        if let node = placed { subscribers[node]?.unsubscribe(channel) }
    }

    /// Puts every channel on its slot's current owner.
    func reassign() {
        guard !isStopped else { return }
        for (channel, placed) in channels {
            guard let owner = router.node(for: RedisHashSlot.slot(for: channel)), owner != placed else { continue }
            if let node = placed { subscribers[node]?.unsubscribe(channel) }
            channels[channel] = owner
            subscriber(for: owner).subscribe(channel)
            logger.debug("sharded channel moved", metadata: ["channel": "\(channel)", "node": "\(owner)"])
        }
    }

    /// A channel the server dropped (its slot moved): forget where it was, refresh, place it again.
    private func lost(_ channel: String, on node: Node) {
        guard let placed = channels[channel], placed == node else { return }
        channels[channel] = .some(nil)
        router.requestRefresh()
        // The refresh's map change reassigns; if the map did not change (stale view), retry shortly anyway.
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(200)) { self.reassign() }
    }

    private func subscriber(for node: Node) -> RedisSubscriber {
        if let existing = subscribers[node] { return existing }
        var configuration = router.template
        if let address = ClusterSlotMap.address(of: node) { configuration.address = address }
        let box = self.box
        let events = SubscriberEvents(
            serverUnsubscribed: { channel in box?.value.lost(channel, on: node) },
            error: { [router] message in
                if message.hasPrefix("MOVED") || message.hasPrefix("CLUSTERDOWN") { router.requestRefresh() }
            })
        let subscriber = RedisSubscriber(configuration: configuration, eventLoop: eventLoop, logger: logger,
                                         sharded: true, events: events, onMessage: onMessage)
        subscribers[node] = subscriber
        active.withLockedValue { $0.append(subscriber) }
        subscriber.start()
        return subscriber
    }

    func stop() -> [RedisSubscriber] {
        isStopped = true
        let all = Array(subscribers.values)
        subscribers.removeAll()
        active.withLockedValue { $0.removeAll() }
        return all
    }
}
