import NIOCore
import NIOWebSocket

/// One subscriber (or idle) connection. Counts the `message` frames it receives and, on every `sampleEvery`th one,
/// reads the publisher's timestamp to sample publish→receive latency. Everything it records goes to its loop's
/// `LoopStats`, so the per-message work is a counter increment (plus a short byte scan on sampled messages).
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    enum Role {
        /// Ready once the `subscribed` confirmation arrives.
        case subscriber
        /// Ready as soon as the upgrade is done; expects no messages.
        case idle
    }

    struct Refused: Error, CustomStringConvertible {
        let frame: String
        var description: String { "subscription refused: \(frame)" }
    }

    private let role: Role
    private let stats: LoopStats
    private let ready: EventLoopPromise<Void>
    private let sampleEvery: Int
    private var isReady = false
    /// Messages received by this subscriber.
    private(set) var received = 0
    private var deliveredInThisRead = false
    private var wrotePong = false

    init(role: Role, stats: LoopStats, ready: EventLoopPromise<Void>, sampleEvery: Int) {
        self.role = role
        self.stats = stats
        self.ready = ready
        self.sampleEvery = sampleEvery
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if role == .idle { becomeReady() }
    }

    private func becomeReady() {
        guard !isReady else { return }
        isReady = true
        if role == .subscriber { stats.subscribers.append(self) }
        ready.succeed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            // Server frames are unmasked, so `data` is the payload as is.
            let kind = GatewayFrames.kind(of: frame.data)
            if kind == .message {
                received += 1
                stats.delivered += 1
                deliveredInThisRead = true
                if received % sampleEvery == 0, let sent = GatewayFrames.timestamp(in: frame.data) {
                    stats.latencySamples.append(NIODeadline.now().uptimeNanoseconds &- sent)
                }
            } else if kind == .subscribed {
                becomeReady()
            } else if kind == .error {
                stats.errorFrames += 1
                if !isReady {
                    ready.fail(Refused(frame: String(buffer: frame.data)))
                    context.close(promise: nil)
                }
            }
        case .ping:
            context.write(wrapOutboundOut(GatewayFrames.pong(answering: frame)), promise: nil)
            wrotePong = true
        case .connectionClose:
            if GatewayFrames.closeCode(frame.data) == 1013 { stats.slowConsumerCloses += 1 }
            context.close(promise: nil)
        default:
            break
        }
    }

    /// The time of the last delivery is taken once per read, not per message (one clock read per syscall).
    func channelReadComplete(context: ChannelHandlerContext) {
        if deliveredInThisRead {
            deliveredInThisRead = false
            stats.lastDeliveryNanoseconds = NIODeadline.now().uptimeNanoseconds
        }
        if wrotePong {
            wrotePong = false
            context.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isReady, !stats.stopping { stats.closedEarly += 1 }
        ready.fail(ChannelError.alreadyClosed)  // no-op once ready
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        context.close(promise: nil)
    }
}
