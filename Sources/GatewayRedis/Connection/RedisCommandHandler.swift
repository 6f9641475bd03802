import Logging
import NIOCore

/// The pipelining engine of one Redis connection.
///
/// * Commands are appended to one outgoing buffer and flushed once per event-loop tick: the first command queued
///   in a tick schedules a flush with `eventLoop.execute`, so all commands issued while handling a burst of
///   requests leave in one `write` syscall and share one round trip.
/// * Replies are matched to commands FIFO. A command that times out keeps its FIFO slot; its late reply is read
///   and dropped. Because every command gets the same timeout, deadlines grow along the queue and the timed-out
///   commands are always a prefix of it (`timedOutCount`), and a single timer serves the whole queue.
/// * If commands have timed out and nothing at all is read for `unresponsiveTimeout`, the peer is presumed dead
///   and the channel is closed (the owner reconnects).
/// * Unsolicited replies (pub/sub pushes) are first offered to `pushHandler`.
///
/// Lives on its channel's event loop; every method must be called there.
final class RedisCommandHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RESPValue>?
        let deadline: NIODeadline
    }

    private var queue = CircularBuffer<Pending>(initialCapacity: 32)
    private var timedOutCount = 0
    private var outgoing: ByteBuffer?
    private var flushScheduled = false
    private var context: ChannelHandlerContext?
    private(set) var isClosed = false
    private let reader = RESPReader()
    private let commandTimeout: TimeAmount
    private let unresponsiveTimeout: TimeAmount
    private var timeoutTimer: Scheduled<Void>?
    private var stallCheck: Scheduled<Void>?
    private var lastRead = NIODeadline.now()
    private let logger: Logger
    /// Offered every reply first; returns `true` when it consumed the reply (it then takes no FIFO slot).
    var pushHandler: ((RESPValue) -> Bool)?

    /// Writes above this size are handed to the channel at once (still unflushed) to bound the buffer.
    private static let maximumBufferedBytes = 64 * 1024

    init(commandTimeout: TimeAmount, unresponsiveTimeout: TimeAmount, logger: Logger) {
        self.commandTimeout = commandTimeout
        self.unresponsiveTimeout = max(unresponsiveTimeout, commandTimeout)
        self.logger = logger
    }

    /// Number of commands waiting for a reply (including timed-out ones whose reply is still due).
    var inFlight: Int { queue.count }

    // MARK: Sending

    /// Queues a command; `promise` gets its reply (`-ERR` fails it with `.server`). With a `nil` promise no reply
    /// is expected (pub/sub SUBSCRIBE & co., whose confirmations arrive as pushes).
    func send(_ arguments: [String], promise: EventLoopPromise<RESPValue>?) {
        write(promise: promise) { (buffer: inout ByteBuffer) throws(RedisError) in try RESPEncoder.encode(arguments, into: &buffer) }
    }

    func send(_ arguments: [ByteBuffer], promise: EventLoopPromise<RESPValue>?) {
        write(promise: promise) { (buffer: inout ByteBuffer) throws(RedisError) in try RESPEncoder.encode(arguments, into: &buffer) }
    }

    private func write(promise: EventLoopPromise<RESPValue>?, encode: (inout ByteBuffer) throws(RedisError) -> Void) {
        guard !isClosed, let context else {
            promise?.fail(RedisError.unavailable)
            return
        }
        var buffer = outgoing ?? context.channel.allocator.buffer(capacity: 512)
        let mark = buffer.writerIndex
        do {
            try encode(&buffer)
        } catch {
            buffer.moveWriterIndex(to: mark)
            outgoing = buffer
            promise?.fail(error)
            return
        }
        if let promise {
            let deadline = NIODeadline.now() + commandTimeout
            queue.append(Pending(promise: promise, deadline: deadline))
            if timeoutTimer == nil { scheduleTimeoutTimer(at: deadline, context: context) }
        }
        if buffer.readableBytes >= Self.maximumBufferedBytes {
            outgoing = nil
            context.write(wrapOutboundOut(buffer), promise: nil)
        } else {
            outgoing = buffer
        }
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { self.flushNow() }
        }
    }

    private func flushNow() {
        flushScheduled = false
        guard let context, !isClosed else { return }
        if let buffer = outgoing, buffer.readableBytes > 0 {
            outgoing = nil
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        context.flush()
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        let bytes = unwrapInboundIn(data)
        do {
            try reader.feed(bytes)
            while !isClosed, let value = try reader.next() {
                deliver(value, context: context)
            }
        } catch {
            logger.error("redis protocol error, closing connection", metadata: ["error": "\(error)"])
            failAll(error)
            context.close(promise: nil)
        }
    }

    private func deliver(_ value: RESPValue, context: ChannelHandlerContext) {
        if let pushHandler, pushHandler(value) { return }
        guard let head = queue.popFirst() else {
            logger.error("unexpected redis reply with no command in flight, closing connection")
            failAll(RedisError.protocolError("unexpected reply"))
            context.close(promise: nil)
            return
        }
        if timedOutCount > 0 {
            timedOutCount -= 1  // the reply of a command that already failed with .timeout
            return
        }
        guard let promise = head.promise else { return }
        if case .error(let message) = value {
            promise.fail(RedisError.server(message))
        } else {
            promise.succeed(value)
        }
    }

    // MARK: Timeouts

    private func scheduleTimeoutTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timeoutTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timeoutTimer = nil
            self.expireCommands()
        }
    }

    private func expireCommands() {
        guard let context, !isClosed else { return }
        let now = NIODeadline.now()
        var expired = 0
        while timedOutCount < queue.count {
            let index = queue.index(queue.startIndex, offsetBy: timedOutCount)
            guard queue[index].deadline <= now else {
                scheduleTimeoutTimer(at: queue[index].deadline, context: context)
                break
            }
            let promise = queue[index].promise
            queue[index].promise = nil
            timedOutCount += 1
            expired += 1
            promise?.fail(RedisError.timeout)
            if isClosed { return }  // a callback closed us
        }
        if expired > 0 {
            logger.debug("redis commands timed out", metadata: ["count": "\(expired)"])
            if stallCheck == nil { scheduleStallCheck(since: now, context: context) }
        }
    }

    /// Closes the connection when timed-out commands are outstanding and nothing was read since `since`.
    private func scheduleStallCheck(since: NIODeadline, context: ChannelHandlerContext) {
        stallCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: since + unresponsiveTimeout) {
            self.stallCheck = nil
            guard let context = self.context, !self.isClosed, self.timedOutCount > 0 else { return }
            if self.lastRead < since {
                self.logger.warning("redis connection unresponsive, reconnecting",
                                    metadata: ["timedOut": "\(self.timedOutCount)"])
                self.failAll(RedisError.connectionClosed)
                context.close(promise: nil)
            } else {
                self.scheduleStallCheck(since: .now(), context: context)
            }
        }
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        markClosed()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("redis connection error", metadata: ["error": "\(error)"])
        markClosed()
        context.close(promise: nil)
    }

    private func markClosed() {
        isClosed = true
        outgoing = nil
        failAll(RedisError.connectionClosed)
    }

    private func failAll(_ error: Error) {
        isClosed = true
        timeoutTimer?.cancel()
        timeoutTimer = nil
        stallCheck?.cancel()
        stallCheck = nil
        let failed = queue
        queue.removeAll()
        timedOutCount = 0
        for pending in failed { pending.promise?.fail(error) }
    }
}
