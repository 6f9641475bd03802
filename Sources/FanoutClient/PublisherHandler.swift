import NIOCore
import NIOWebSocket

/// The publisher connection: on every timer tick it sends, in one flush, each message that has become due at the
/// fixed rate (message k is due k / rate seconds after the start), stamping each with the current uptime in ns so
/// subscribers in this process can compute the publish→receive latency.
final class PublisherHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Result: Sendable {
        var sent: Int
        var startNanoseconds: UInt64
        var endNanoseconds: UInt64
    }

    private let stats: LoopStats
    private let ready: EventLoopPromise<Void>
    private var context: ChannelHandlerContext?
    private var current: Run?
    private var timer: Scheduled<Void>?

    /// The state of a `run(…)` in progress.
    private struct Run {
        /// `"channel"` (one room) or `"channel:` (rooms: the room number and closing quote are appended).
        let channelJSON: String
        let rooms: Int
        let rate: Double
        let total: Int
        let tick: TimeAmount
        let startNanoseconds: UInt64
        let done: EventLoopPromise<Result>
        var sent = 0
    }

    init(stats: LoopStats, ready: EventLoopPromise<Void>) {
        self.stats = stats
        self.ready = ready
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        ready.succeed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        current?.done.fail(ChannelError.ioOnClosedChannel)
        current = nil
        self.context = nil
    }

    /// Publishes `rate × duration` messages to `channel`; completes when the last one has been written.
    /// With `rooms` > 1, message k goes to `channel:(k mod rooms)`.
    func run(channel: String, rooms: Int = 1, rate: Double, duration: Double, tick: TimeAmount) -> EventLoopFuture<Result> {
        guard let context else { preconditionFailure("publisher not in a pipeline") }
        let done = context.eventLoop.makePromise(of: Result.self)
        let total = Int((rate * duration).rounded())
        guard total > 0 else {
            done.succeed(Result(sent: 0, startNanoseconds: 0, endNanoseconds: 0))
            return done.futureResult
        }
        current = Run(
            channelJSON: rooms > 1 ? "\"" + channel + ":" : "\"" + channel + "\"",  // bench names need no escaping
            rooms: rooms, rate: rate, total: total, tick: tick, startNanoseconds: NIODeadline.now().uptimeNanoseconds, done: done)
        publishDue(deadline: .now())
        return done.futureResult
    }

    /// One tick: writes every message due by now, flushes once, and schedules the next tick `tick` after this one's
    /// deadline (a fixed schedule, so a late tick does not shift the ones after it).
    private func publishDue(deadline: NIODeadline) {
        guard var run = current, let context else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let due = min(run.total, Int(Double(now - run.startNanoseconds) / 1e9 * run.rate) + 1)
        while run.sent < due {
            var payload = context.channel.allocator.buffer(capacity: 96)
            payload.writeStaticString(#"{"type":"publish","channel":"#)
            payload.writeString(run.channelJSON)
            if run.rooms > 1 {
                payload.writeString(String(run.sent % run.rooms))
                payload.writeStaticString("\"")
            }
            payload.writeStaticString(#","data":{"t":"#)
            payload.writeString(String(now))
            payload.writeStaticString(#","n":"#)
            payload.writeString(String(run.sent))
            payload.writeStaticString("}}")
            let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: payload)
            context.write(wrapOutboundOut(frame), promise: nil)
            run.sent += 1
        }
        context.flush()
        if run.sent == run.total {
            current = nil
            run.done.succeed(Result(sent: run.sent, startNanoseconds: run.startNanoseconds, endNanoseconds: now))
            return
        }
        current = run
        let next = deadline + run.tick
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { self.publishDue(deadline: next) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            // A publisher gets no messages; anything else (e.g. `unavailable`) is an error frame. The first one is
            // shown, the rest only counted.
            if stats.errorFrames == 0 { log("publisher got: \(String(buffer: frame.data))") }
            stats.errorFrames += 1
        case .ping:
            context.writeAndFlush(wrapOutboundOut(GatewayFrames.pong(answering: frame)), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        context.close(promise: nil)
    }
}
