import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Pipelined Redis node client with one connection per event loop of the group: commands sent from loop L use L's
/// connection, so callers on an event loop never hop threads. Connects in the background and reconnects forever
/// with exponential backoff + jitter. While a loop's connection is down, commands fail at once with
/// `.unavailable`. AUTH and SELECT are sent on every (re)connect before the connection counts as up.
///
/// Why SwiftNIO I/O + the hiredis *reader* rather than hiredis' async API (`redisAsyncContext`):
/// * hiredis' async API needs an event-library adapter (libevent, libuv, ae, ...); none exists for SwiftNIO, and
///   writing one means handing hiredis a raw fd and emulating its read/write callbacks on NIO's selector, outside
///   NIO's channel model (no backpressure, no `closeFuture`, no `EmbeddedChannel` testing).
/// * With NIO owning the socket, each Redis connection lives on the same event loop as the HTTP requests using
///   it: no thread hops, no locks on the hot path, and writes are coalesced per loop tick into one syscall.
/// * hiredis' async API calls back with C function pointers and `void*` privdata; bridging Swift closures and
///   promises through that safely under Swift 6 strict concurrency is fragile. The reader is a pure parser:
///   bytes in, reply trees out, easy to own and free deterministically.
/// * Timeouts, reconnect policy (jittered backoff, fail-fast while down) and pub/sub resubscription are ours to
///   define, instead of hiredis' fixed behaviour.
///
/// This is the client of ONE Redis node; ``RedisClient`` puts single node, Cluster and Sentinel behind one API.
final class RedisNodeClient: Sendable {
    /// One loop's connection. The connection object itself is touched only on its loop.
    private struct Slot: Sendable {
        let eventLoop: any EventLoop
        let connection: NIOLoopBoundBox<RedisConnection>
        let upFlag: NIOLockedValueBox<Bool>
    }

    let configuration: RedisConfiguration
    private let slots: [ObjectIdentifier: Slot]
    private let orderedSlots: [Slot]
    private let logger: Logger
    private let started = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - addressProvider: where to connect on each attempt (Sentinel's current primary); nil = the configuration's.
    ///   - requirePrimary: check `ROLE` on every (re)connect and refuse replicas; `onWrongRole` hears about it.
    init(configuration: RedisConfiguration, group: any EventLoopGroup, logger: Logger,
         addressProvider: (@Sendable () -> RedisConfiguration.Address?)? = nil, requirePrimary: Bool = false,
         onWrongRole: (@Sendable () -> Void)? = nil) {
        self.configuration = configuration
        self.logger = logger
        var slots: [ObjectIdentifier: Slot] = [:]
        var ordered: [Slot] = []
        let loops = Array(group.makeIterator())
        let upFlags = loops.map { _ in NIOLockedValueBox(false) }
        let announced = NIOLockedValueBox(false)
        for (eventLoop, upFlag) in zip(loops, upFlags) {
            let connection = RedisConnection(configuration: configuration, eventLoop: eventLoop,
                                             logger: logger, upFlag: upFlag, addressProvider: addressProvider,
                                             requirePrimary: requirePrimary, onWrongRole: onWrongRole)
            // One "redis connected" line per node (not one per event-loop connection), and again after an outage
            // of every connection; each connection's own line is at debug level.
            connection.onUp = {
                let up = upFlags.reduce(0) { $0 + ($1.withLockedValue { $0 } ? 1 : 0) }
                let first = announced.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if first || up == 1 {
                    logger.info(
                        "redis connected",
                        metadata: [
                            "address": "\(addressProvider?() ?? configuration.address)",
                            "connections": "\(upFlags.count) (one per event loop)",
                        ])
                }
            }
            let slot = Slot(eventLoop: eventLoop,
                            connection: NIOLoopBoundBox.makeBoxSendingValue(connection, eventLoop: eventLoop),
                            upFlag: upFlag)
            slots[ObjectIdentifier(eventLoop)] = slot
            ordered.append(slot)
        }
        precondition(!ordered.isEmpty, "RedisClient needs an EventLoopGroup with at least one loop")
        self.slots = slots
        self.orderedSlots = ordered
    }

    /// Starts connecting every loop's connection in the background. Idempotent.
    func start() {
        let first = started.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        for slot in orderedSlots {
            slot.eventLoop.execute { slot.connection.value.start() }
        }
    }

    /// Sends one command. `-ERR` replies fail the future with `RedisError.server`.
    func send(_ arguments: [String], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let slot = self.slot(for: eventLoop)
        if slot.eventLoop === eventLoop && eventLoop.inEventLoop {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            slot.connection.value.send(arguments, promise: promise)
            return promise.futureResult
        }
        let promise = slot.eventLoop.makePromise(of: RESPValue.self)
        slot.eventLoop.execute { slot.connection.value.send(arguments, promise: promise) }
        return promise.futureResult.hop(to: eventLoop)
    }

    /// Binary-safe variant of `send(_:on:)`.
    func send(_ arguments: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        let slot = self.slot(for: eventLoop)
        if slot.eventLoop === eventLoop && eventLoop.inEventLoop {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            slot.connection.value.send(arguments, promise: promise)
            return promise.futureResult
        }
        let promise = slot.eventLoop.makePromise(of: RESPValue.self)
        slot.eventLoop.execute { slot.connection.value.send(arguments, promise: promise) }
        return promise.futureResult.hop(to: eventLoop)
    }

    /// EVALSHA with transparent NOSCRIPT fallback: when the server does not know the script (restart,
    /// SCRIPT FLUSH, failover) it is sent once with EVAL, which runs it and loads it for the next EVALSHA.
    func evaluate(_ script: RedisScript, keys: [String], arguments: [String],
                         on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        var tail = [String(keys.count)]
        tail.reserveCapacity(1 + keys.count + arguments.count)
        tail.append(contentsOf: keys)
        tail.append(contentsOf: arguments)
        let evalArguments = ["EVAL", script.source] + tail
        return send(["EVALSHA", script.sha1] + tail, on: eventLoop).flatMapError { error in
            guard case RedisError.server(let message) = error, message.hasPrefix("NOSCRIPT") else {
                return eventLoop.makeFailedFuture(error)
            }
            return self.send(evalArguments, on: eventLoop)
        }
    }

    /// True when at least one loop's connection is up.
    var isConnected: Bool {
        orderedSlots.contains { $0.upFlag.withLockedValue { $0 } }
    }

    /// Completes when the connection on that loop is up (for tests/readiness); fails with `.timeout` after `timeout`.
    func waitUntilConnected(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let slot = self.slot(for: eventLoop)
        return slot.eventLoop.flatSubmit {
            slot.connection.value.waitUntilUp(timeout: timeout)
        }.hop(to: eventLoop)
    }

    /// Drops every loop's connection and connects again at once (e.g. to the primary Sentinel just announced).
    func reconnectNow() {
        for slot in orderedSlots {
            slot.eventLoop.execute { slot.connection.value.reconnectNow() }
        }
    }

    /// Closes every connection and stops reconnecting; later commands fail with `.shutdown`.
    func shutdown() async {
        started.withLockedValue { $0 = true }  // a late start() must not reconnect
        for slot in orderedSlots {
            try? await slot.eventLoop.flatSubmit { slot.connection.value.shutdown() }.get()
        }
    }

    /// The connection for `eventLoop`; loops outside our group borrow one (the result hops back).
    private func slot(for eventLoop: any EventLoop) -> Slot {
        if let slot = slots[ObjectIdentifier(eventLoop)] { return slot }
        return orderedSlots[Int(UInt(bitPattern: ObjectIdentifier(eventLoop).hashValue) % UInt(orderedSlots.count))]
    }
}
