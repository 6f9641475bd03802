import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One self-healing Redis connection on one event loop: connects in the background, runs the handshake
/// (AUTH, SELECT, then an optional `prepare` step), and after any failure or loss reconnects with jittered
/// exponential backoff. At most one connect attempt is in flight at a time. Commands are only accepted while
/// the connection is up; otherwise they fail at once with `.unavailable` (or `.shutdown`).
///
/// Not thread-safe: every method runs on `eventLoop` (owners keep it in a `NIOLoopBoundBox`).
final class RedisConnection {
    private enum State {
        case idle
        case connecting
        case handshaking(Channel, RedisCommandHandler)
        case up(Channel, RedisCommandHandler)
        case waitingToReconnect(Scheduled<Void>)
        case shutdown
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private var logger: Logger
    private var state = State.idle
    private var backoff: ReconnectBackoff
    /// Readable from any thread (for `isConnected`).
    let upFlag: NIOLockedValueBox<Bool>
    private var waiters: [Int: (promise: EventLoopPromise<Void>, timer: Scheduled<Void>)] = [:]
    private var nextWaiterID = 0
    /// The address of the latest connect attempt (logs).
    private var currentAddress: RedisConfiguration.Address?

    /// Runs after AUTH/SELECT succeeded and before the connection counts as up (pub/sub restores subscriptions).
    var prepare: ((RedisCommandHandler) -> EventLoopFuture<Void>)?
    /// Called every time the connection comes up.
    var onUp: (() -> Void)?
    /// Where to connect, asked on every attempt (Sentinel: the current primary); nil = `configuration.address`.
    /// Returning nil from the provider counts as a failed attempt (no primary known yet).
    var addressProvider: (@Sendable () -> RedisConfiguration.Address?)?
    /// Sends `ROLE` in the handshake and refuses anything but a primary, so a demoted primary is never written to.
    var requirePrimary = false
    /// Called (on the loop) when the handshake found a node that is not a primary.
    var onWrongRole: (() -> Void)?

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger, upFlag: NIOLockedValueBox<Bool>,
         addressProvider: (@Sendable () -> RedisConfiguration.Address?)? = nil, requirePrimary: Bool = false,
         onWrongRole: (@Sendable () -> Void)? = nil) {
        self.addressProvider = addressProvider
        self.requirePrimary = requirePrimary
        self.onWrongRole = onWrongRole
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.upFlag = upFlag
        self.backoff = ReconnectBackoff(initial: configuration.initialReconnectDelay,
                                        maximum: configuration.maximumReconnectDelay)
    }

    var isUp: Bool {
        if case .up = state { return true }
        return false
    }

    /// The live handler, if the connection is up.
    var handler: RedisCommandHandler? {
        if case .up(_, let handler) = state { return handler }
        return nil
    }

    func start() {
        guard case .idle = state else { return }
        connect()
    }

    /// Drops the current connection (or the wait before the next attempt) and connects again at once, e.g.
    /// after Sentinel announced a new primary. Commands in flight fail with `.connectionClosed`.
    func reconnectNow() {
        switch state {
        case .up(let channel, _), .handshaking(let channel, _):
            backoff.reset()
            channel.close(promise: nil)  // → channelClosed → scheduleReconnect (first delay: initial, ~50 ms)
        case .waitingToReconnect(let scheduled):
            scheduled.cancel()
            backoff.reset()
            connect()
        case .idle, .connecting, .shutdown:
            return
        }
    }

    func send(_ arguments: [String], promise: EventLoopPromise<RESPValue>) {
        switch state {
        case .up(_, let handler): handler.send(arguments, promise: promise)
        case .shutdown: promise.fail(RedisError.shutdown)
        default: promise.fail(RedisError.unavailable)
        }
    }

    func send(_ arguments: [ByteBuffer], promise: EventLoopPromise<RESPValue>) {
        switch state {
        case .up(_, let handler): handler.send(arguments, promise: promise)
        case .shutdown: promise.fail(RedisError.shutdown)
        default: promise.fail(RedisError.unavailable)
        }
    }

    func waitUntilUp(timeout: TimeAmount) -> EventLoopFuture<Void> {
        switch state {
        case .up: return eventLoop.makeSucceededVoidFuture()
        case .shutdown: return eventLoop.makeFailedFuture(RedisError.shutdown)
        default: break
        }
        let promise = eventLoop.makePromise(of: Void.self)
        let id = nextWaiterID
        nextWaiterID += 1
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard let waiter = self.waiters.removeValue(forKey: id) else { return }
            waiter.promise.fail(RedisError.timeout)
        }
        waiters[id] = (promise, timer)
        return promise.futureResult
    }

    func shutdown() -> EventLoopFuture<Void> {
        let previous = state
        state = .shutdown
        upFlag.withLockedValue { $0 = false }
        let pending = waiters
        waiters.removeAll()
        for waiter in pending.values {
            waiter.timer.cancel()
            waiter.promise.fail(RedisError.shutdown)
        }
        switch previous {
        case .handshaking(let channel, _), .up(let channel, _):
            let promise = eventLoop.makePromise(of: Void.self)
            channel.close(promise: promise)
            return promise.futureResult.recover { _ in }
        case .waitingToReconnect(let scheduled):
            scheduled.cancel()
            return eventLoop.makeSucceededVoidFuture()
        case .idle, .connecting, .shutdown:
            return eventLoop.makeSucceededVoidFuture()
        }
    }

    // MARK: Connecting

    private func connect() {
        state = .connecting
        let configuration = self.configuration
        let logger = self.logger
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RedisCommandHandler(commandTimeout: configuration.commandTimeout,
                                                      unresponsiveTimeout: configuration.unresponsiveTimeout,
                                                      logger: logger)
                    if let tls = configuration.tls, case .tcp(let host, _) = configuration.address {
                        try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(host: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let future: EventLoopFuture<Channel>
        let address: RedisConfiguration.Address
        if let addressProvider {
            guard let current = addressProvider() else {
                connectFailed(RedisError.unavailable)
                return
            }
            address = current
        } else {
            address = configuration.address
        }
        self.currentAddress = address
        switch address {
        case .tcp(let host, let port): future = bootstrap.connect(host: host, port: port)
        case .unix(let path): future = bootstrap.connect(unixDomainSocketPath: path)
        }
        future.hop(to: eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel): self.connected(channel)
            case .failure(let error): self.connectFailed(error)
            }
        }
    }

    private func connected(_ channel: Channel) {
        guard case .connecting = state else {
            channel.close(promise: nil)  // shut down meanwhile
            return
        }
        let handler: RedisCommandHandler
        do {
            handler = try channel.pipeline.syncOperations.handler(type: RedisCommandHandler.self)
        } catch {
            channel.close(promise: nil)
            connectFailed(error)
            return
        }
        state = .handshaking(channel, handler)
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.channelClosed(channel) }
        handshake(handler).assumeIsolated().whenComplete { result in
            guard case .handshaking(let current, _) = self.state, current === channel else { return }
            switch result {
            case .success:
                self.state = .up(channel, handler)
                self.backoff.reset()
                self.upFlag.withLockedValue { $0 = true }
                self.logger.debug("redis connection up", metadata: ["address": "\(self.currentAddress ?? self.configuration.address)"])
                self.onUp?()
                let pending = self.waiters
                self.waiters.removeAll()
                for waiter in pending.values {
                    waiter.timer.cancel()
                    waiter.promise.succeed()
                }
            case .failure(let error):
                self.logFailure("redis handshake failed", error)
                channel.close(promise: nil)  // → channelClosed → reconnect
            }
        }
    }

    /// AUTH (when a password is configured), SELECT (when the database is not 0) and READONLY (Cluster replica
    /// reads), pipelined.
    private func handshake(_ handler: RedisCommandHandler) -> EventLoopFuture<Void> {
        var steps: [EventLoopFuture<RESPValue>] = []
        if let password = configuration.password {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            if let username = configuration.username {
                handler.send(["AUTH", username, password], promise: promise)
            } else {
                handler.send(["AUTH", password], promise: promise)
            }
            steps.append(promise.futureResult)
        }
        if configuration.database != 0 {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            handler.send(["SELECT", String(configuration.database)], promise: promise)
            steps.append(promise.futureResult)
        }
        if configuration.readOnly {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            handler.send(["READONLY"], promise: promise)
            steps.append(promise.futureResult)
        }
        if requirePrimary {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            handler.send(["ROLE"], promise: promise)
            steps.append(promise.futureResult.assumeIsolated().flatMapThrowing { reply in
                guard let role = reply.array?.first?.string, role == "master" else {
                    self.onWrongRole?()
                    throw RedisError.server("ROLE: not a primary (\(reply.array?.first?.string ?? "?"))")
                }
                return reply
            }.nonisolated())
        }
        let basics = EventLoopFuture.andAllSucceed(steps, on: eventLoop)
        guard let prepare else { return basics }
        return basics.assumeIsolated().flatMap { prepare(handler) }.nonisolated()
    }

    private func connectFailed(_ error: Error) {
        guard case .connecting = state else { return }
        logFailure("redis connect failed", error)
        scheduleReconnect()
    }

    private func channelClosed(_ channel: Channel) {
        switch state {
        case .handshaking(let current, _), .up(let current, _):
            guard current === channel else { return }
            if case .up = state {
                logger.warning("redis connection lost", metadata: ["address": "\(currentAddress ?? configuration.address)"])
            }
            upFlag.withLockedValue { $0 = false }
            scheduleReconnect()
        default:
            return
        }
    }

    private func scheduleReconnect() {
        let delay = backoff.nextDelay()
        logger.debug("redis reconnecting", metadata: ["delayMs": "\(delay.nanoseconds / 1_000_000)"])
        state = .waitingToReconnect(eventLoop.assumeIsolated().scheduleTask(in: delay) {
            guard case .waitingToReconnect = self.state else { return }
            self.connect()
        })
    }

    /// Loud on the first failure of a streak, then quiet (reconnects continue forever).
    private func logFailure(_ message: Logger.Message, _ error: Error) {
        let level: Logger.Level = backoff.failures == 0 || backoff.failures % 50 == 0 ? .warning : .debug
        logger.log(level: level, message, metadata: ["address": "\(currentAddress ?? configuration.address)", "error": "\(error)"])
    }
}
