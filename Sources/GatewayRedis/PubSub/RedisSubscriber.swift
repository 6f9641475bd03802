import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A dedicated pub/sub connection (one per process). Subscriptions are desired state: after a reconnect every
/// subscribed channel/pattern is subscribed again by itself. `onMessage` runs on the subscriber's event loop.
public final class RedisSubscriber: Sendable {
    private let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<SubscriberCore>
    private let upFlag: NIOLockedValueBox<Bool>

    public init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger,
                onMessage: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void) {
        self.eventLoop = eventLoop
        let upFlag = NIOLockedValueBox(false)
        self.upFlag = upFlag
        let connection = RedisConnection(configuration: configuration, eventLoop: eventLoop, logger: logger,
                                         upFlag: upFlag)
        let core = SubscriberCore(connection: connection, logger: logger, onMessage: onMessage)
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
