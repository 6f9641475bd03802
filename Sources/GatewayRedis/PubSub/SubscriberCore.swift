import Logging
import NIOCore

/// The loop-bound state behind `RedisSubscriber`: the desired subscriptions (the source of truth, restored on
/// every reconnect) and the connection they are applied to. Every method runs on `connection.eventLoop`.
/// Callbacks of a sharded subscriber (run on its loop).
struct SubscriberEvents: Sendable {
    /// The server ended a subscription we still want (`sunsubscribe` push: the slot moved away).
    var serverUnsubscribed: @Sendable (String) -> Void = { _ in }
    /// An error reply to a (S)SUBSCRIBE, e.g. `MOVED 1234 host:port`.
    var error: @Sendable (String) -> Void = { _ in }
    /// The connection came up (subscriptions restored) or went down.
    var connected: @Sendable () -> Void = {}
}

final class SubscriberCore {
    let connection: RedisConnection
    private let logger: Logger
    private let onMessage: @Sendable (String, ByteBuffer) -> Void
    private(set) var channels: Set<String> = []
    private(set) var patterns: Set<String> = []
    private var reconnectCallbacks: [@Sendable () -> Void] = []
    /// The handler subscriptions are currently applied to (set once AUTH succeeded on a connection).
    private var liveHandler: RedisCommandHandler?
    private var healthCheck: Scheduled<Void>?
    /// Channels Redis has confirmed (its `subscribe` push) on the live connection.
    private var confirmed: Set<String> = []
    /// Callers waiting for a channel's confirmation.
    private var awaitingConfirmation: [String: [EventLoopPromise<Void>]] = [:]
    private var isShutdown = false
    private static let healthCheckInterval: TimeAmount = .seconds(5)
    /// Redis accepts many names per SUBSCRIBE; chunk to keep each command reasonable.
    private static let namesPerCommand = 500

    private let sharded: Bool
    private let events: SubscriberEvents
    private var subscribeCommand: String { sharded ? "SSUBSCRIBE" : "SUBSCRIBE" }
    private var unsubscribeCommand: String { sharded ? "SUNSUBSCRIBE" : "UNSUBSCRIBE" }

    init(connection: RedisConnection, logger: Logger, sharded: Bool = false, events: SubscriberEvents = SubscriberEvents(),
         onMessage: @escaping @Sendable (String, ByteBuffer) -> Void) {
        self.connection = connection
        self.logger = logger
        self.sharded = sharded
        self.events = events
        self.onMessage = onMessage
        // Weak: the connection's scheduled tasks may outlive a subscriber that was dropped without shutdown().
        connection.prepare = { [weak self, eventLoop = connection.eventLoop] handler in
            guard let self else { return eventLoop.makeFailedFuture(RedisError.shutdown) }
            return self.restore(on: handler)
        }
        connection.onUp = { [weak self] in
            self?.events.connected()
            for callback in self?.reconnectCallbacks ?? [] { callback() }
        }
    }

    func start() {
        connection.start()
        scheduleHealthCheck()
    }

    /// Completes once Redis has confirmed the subscription, so a message published after that reaches us.
    /// While the connection is down it completes at once: the reconnect subscribes again by itself, and
    /// callers should not wait for an outage to end.
    func subscribe(_ channel: String) -> EventLoopFuture<Void> {
        if channels.insert(channel).inserted { apply([subscribeCommand, channel]) }
        guard let handler = liveHandler, !handler.isClosed, !confirmed.contains(channel) else {
            return connection.eventLoop.makeSucceededVoidFuture()
        }
        let promise = connection.eventLoop.makePromise(of: Void.self)
        awaitingConfirmation[channel, default: []].append(promise)
        return promise.futureResult
    }

    func unsubscribe(_ channel: String) {
        guard channels.remove(channel) != nil else { return }
        confirmed.remove(channel)
        resolveWaiters(of: channel)
        apply([unsubscribeCommand, channel])
    }

    private func resolveWaiters(of channel: String) {
        for promise in awaitingConfirmation.removeValue(forKey: channel) ?? [] { promise.succeed() }
    }

    func psubscribe(_ pattern: String) {
        guard patterns.insert(pattern).inserted else { return }
        apply(["PSUBSCRIBE", pattern])
    }

    func punsubscribe(_ pattern: String) {
        guard patterns.remove(pattern) != nil else { return }
        apply(["PUNSUBSCRIBE", pattern])
    }

    func addReconnectCallback(_ callback: @escaping @Sendable () -> Void) {
        reconnectCallbacks.append(callback)
    }

    func shutdown() -> EventLoopFuture<Void> {
        isShutdown = true
        for channel in Array(awaitingConfirmation.keys) { resolveWaiters(of: channel) }
        healthCheck?.cancel()
        healthCheck = nil
        liveHandler = nil
        return connection.shutdown()
    }

    /// Sends a (un)subscribe command on the live connection; when down, the reconnect applies the desired state.
    private func apply(_ command: [String]) {
        guard let handler = liveHandler, !handler.isClosed else { return }
        handler.send(command, promise: nil)
    }

    /// Runs during the handshake: switch the handler to push mode, resubscribe everything, and PING so the
    /// connection counts as up only after Redis processed all subscriptions (replies come in order).
    private func restore(on handler: RedisCommandHandler) -> EventLoopFuture<Void> {
        handler.pushHandler = { [weak self] value in self?.handlePush(value) ?? true }
        liveHandler = handler
        confirmed.removeAll()  // a new connection: confirmations start over
        if sharded {
            // One SSUBSCRIBE per channel: the channels of one command must share a slot.
            for channel in channels.sorted() { handler.send(["SSUBSCRIBE", channel], promise: nil) }
        } else {
            for chunk in Self.chunks(of: channels) { handler.send(["SUBSCRIBE"] + chunk, promise: nil) }
        }
        for chunk in Self.chunks(of: patterns) { handler.send(["PSUBSCRIBE"] + chunk, promise: nil) }
        let ping = connection.eventLoop.makePromise(of: RESPValue.self)
        handler.send(["PING"], promise: ping)
        return ping.futureResult.map { _ in }
    }

    private static func chunks(of names: Set<String>) -> [[String]] {
        let sorted = names.sorted()
        return stride(from: 0, to: sorted.count, by: namesPerCommand).map {
            Array(sorted[$0..<min($0 + namesPerCommand, sorted.count)])
        }
    }

    private func handlePush(_ value: RESPValue) -> Bool {
        if case .error(let message) = value {
            // (P)SUBSCRIBE commands carry no reply slot, so their errors (e.g. ACL denials) land here.
            logger.warning("redis pub/sub command failed", metadata: ["error": "\(message)"])
            events.error(message)
            return true
        }
        guard let push = PubSubPush(value) else { return false }
        switch push {
        case .message(let channel, let payload):
            onMessage(channel, payload)
        case .patternMessage(_, let channel, let payload):
            onMessage(channel, payload)
        case .confirmation(let kind, let name, _):
            if kind == "subscribe" || kind == "ssubscribe", let name, channels.contains(name) {
                confirmed.insert(name)
                resolveWaiters(of: name)
            } else if kind == "sunsubscribe", let name, channels.contains(name), confirmed.contains(name) {
                // Not asked for by us (we remove the channel before sending SUNSUBSCRIBE): the slot moved.
                channels.remove(name)
                confirmed.remove(name)
                events.serverUnsubscribed(name)
            }
        }
        return true
    }

    /// A PING every few seconds so a silently dead connection is noticed (a timed-out PING with no traffic
    /// makes the handler close the connection, which triggers reconnect + resubscribe).
    private func scheduleHealthCheck() {
        guard !isShutdown else { return }
        healthCheck = connection.eventLoop.assumeIsolated().scheduleTask(in: Self.healthCheckInterval) {
            if let handler = self.connection.handler {
                handler.send(["PING"], promise: self.connection.eventLoop.makePromise(of: RESPValue.self))
            }
            self.scheduleHealthCheck()
        }
    }
}
