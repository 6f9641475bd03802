import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The pub/sub side of a store, whatever its topology: ``RedisSubscriber`` for one node (or Sentinel's primary),
/// ``RedisClusterSubscriber`` (sharded pub/sub, one connection per shard) for a Cluster.
public protocol RedisChannelSubscriber: Sendable {
    func start()
    /// Idempotent; completes once the subscription is confirmed (at once while disconnected).
    @discardableResult func subscribe(_ channel: String) -> EventLoopFuture<Void>
    func unsubscribe(_ channel: String)
    var isConnected: Bool { get }
    func shutdown() async
}

/// A dedicated pub/sub connection (one per process). Subscriptions are desired state: after a reconnect every
/// subscribed channel/pattern is subscribed again by itself. `onMessage` runs on the subscriber's event loop.
///
/// `sharded`: uses `SSUBSCRIBE`/`SUNSUBSCRIBE` (Redis Cluster sharded pub/sub; every channel must belong to
/// the node's slots). The server may drop a sharded subscription by itself (its slot moved): `events` hears
/// about that and about error replies such as `-MOVED`.
public final class RedisSubscriber: RedisChannelSubscriber {
    private let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<SubscriberCore>
    private let upFlag: NIOLockedValueBox<Bool>

    public convenience init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger,
                            onMessage: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void) {
        self.init(configuration: configuration, eventLoop: eventLoop, logger: logger, sharded: false,
                  events: SubscriberEvents(), onMessage: onMessage)
    }

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger, sharded: Bool,
         addressProvider: (@Sendable () -> RedisConfiguration.Address?)? = nil, requirePrimary: Bool = false,
         events: SubscriberEvents, onMessage: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void) {
        self.eventLoop = eventLoop
        let upFlag = NIOLockedValueBox(false)
        self.upFlag = upFlag
        let connection = RedisConnection(configuration: configuration, eventLoop: eventLoop, logger: logger,
                                         upFlag: upFlag, addressProvider: addressProvider,
                                         requirePrimary: requirePrimary)
        let core = SubscriberCore(connection: connection, logger: logger, sharded: sharded, events: events,
                                  onMessage: onMessage)
        self.core = NIOLoopBoundBox.makeBoxSendingValue(core, eventLoop: eventLoop)
    }

    public func start() { onLoop { $0.start() } }

    /// Idempotent. The future (on the subscriber's loop) completes once Redis has confirmed the subscription,
    /// or at once while the connection is down (the reconnect restores it).
    @discardableResult
    public func subscribe(_ channel: String) -> EventLoopFuture<Void> {
        let core = self.core
        if eventLoop.inEventLoop { return core.value.subscribe(channel) }
        return eventLoop.flatSubmit { core.value.subscribe(channel) }
    }
    public func unsubscribe(_ channel: String) { onLoop { $0.unsubscribe(channel) } }
    /// `onMessage` gets the concrete channel.
    public func psubscribe(_ pattern: String) { onLoop { $0.psubscribe(pattern) } }
    public func punsubscribe(_ pattern: String) { onLoop { $0.punsubscribe(pattern) } }

    public var isConnected: Bool { upFlag.withLockedValue { $0 } }

    /// Called on the subscriber's loop after every (re)connect once subscriptions are restored.
    public func onReconnect(_ callback: @escaping @Sendable () -> Void) {
        onLoop { $0.addReconnectCallback(callback) }
    }

    /// Completes when the connection is up and subscriptions are restored; fails with `.timeout` after `timeout`.
    public func waitUntilConnected(timeout: TimeAmount) -> EventLoopFuture<Void> {
        let core = self.core
        return eventLoop.flatSubmit { core.value.connection.waitUntilUp(timeout: timeout) }
    }

    /// Drops the connection and connects again at once (Sentinel announced a new primary).
    func reconnectNow() { onLoop { $0.connection.reconnectNow() } }

    public func shutdown() async {
        let core = self.core
        try? await eventLoop.flatSubmit { core.value.shutdown() }.get()
    }

    /// Runs `body` on the loop: inline when already there (keeps call order), otherwise via `execute`.
    private func onLoop(_ body: @escaping @Sendable (SubscriberCore) -> Void) {
        let core = self.core
        if eventLoop.inEventLoop {
            body(core.value)
        } else {
            eventLoop.execute { body(core.value) }
        }
    }
}
