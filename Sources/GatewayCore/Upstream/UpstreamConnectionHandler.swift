import NIOCore
import NIOHTTP1

/// Who receives an upstream connection's response while a request is using it. Implemented by the client-side
/// proxy handler; always called on the connection's (= the client's) event loop.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    /// The connection closed or failed before the response ended.
    func upstreamFailed(_ error: any Error)
    func upstreamWritabilityChanged(isWritable: Bool)
    /// Whether the client can take more bytes now; upstream reads wait while it cannot (backpressure).
    var downstreamIsWritable: Bool { get }
}

public struct UpstreamConnectionClosed: Error {}

/// The last handler of an upstream connection's pipeline: hands response parts to the current receiver and only
/// passes `read()` on while that receiver's client can take writes (the GlueHandler pattern from swift-nio-examples).
final class UpstreamConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    weak var receiver: (any UpstreamResponseReceiver)?
    /// The connection was upgraded (WebSocket): HTTP parts still coming out of the decoder (the 101's `.end`) are
    /// dropped until the pipeline is switched to a byte splice.
    var upgraded = false
    /// Called once when the channel goes inactive (the pool drops it).
    var onClose: (() -> Void)?
    private var readPending = false
    private(set) var isActive = true
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if upgraded { return }
        guard let receiver else {
            // A response nobody asked for on an idle pooled connection: the stream is out of sync.
            context.close(promise: nil)
            return
        }
        receiver.upstreamReceived(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        let receiver = self.receiver
        self.receiver = nil
        receiver?.upstreamFailed(UpstreamConnectionClosed())
        onClose?()
        onClose = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let receiver = self.receiver
        self.receiver = nil
        receiver?.upstreamFailed(error)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func read(context: ChannelHandlerContext) {
        if let receiver, !receiver.downstreamIsWritable {
            readPending = true
            return
        }
        context.read()
    }

    /// The client drained its writes: let the held read through.
    func resumeReading() {
        guard readPending, let context else { return }
        readPending = false
        context.read()
    }
}
