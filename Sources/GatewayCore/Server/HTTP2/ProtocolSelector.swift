import NIOCore
import NIOTLS

/// Decides between HTTP/1.1 and HTTP/2 on a listener that serves both, then lays out the matching pipeline above
/// itself and leaves.
///
/// - `.alpn` (TLS listeners): the protocol the TLS handshake negotiated (`h2`, else HTTP/1.1).
/// - `.priorKnowledge` (plain listeners with `http2: true`): h2c with prior knowledge (RFC 9113 §3.3) when the
///   first bytes are the client connection preface `PRI * HTTP/2.0…`, HTTP/1.1 otherwise, like nginx's
///   `listen … http2` on a plain port. The `Upgrade: h2c` dance is not offered (RFC 9113 deprecates it; curl falls
///   back to HTTP/1.1).
///
/// Bytes read while undecided are held and handed on to the chosen pipeline.
final class ProtocolSelector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Mode {
        case alpn
        case priorKnowledge
    }

    enum Choice: Equatable {
        case http1
        case http2
    }

    private let mode: Mode
    private let services: GatewayServices
    private let pools: UpstreamPools
    private let activity: ConnectionActivity
    private let security: ConnectionSecurity?
    private var buffered: ByteBuffer?
    private var decided = false

    init(
        mode: Mode, services: GatewayServices, pools: UpstreamPools, activity: ConnectionActivity,
        security: ConnectionSecurity?
    ) {
        self.mode = mode
        self.services = services
        self.pools = pools
        self.activity = activity
        self.security = security
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if mode == .alpn, !decided, case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            context.fireUserInboundEventTriggered(event)
            decide(negotiated == "h2" ? .http2 : .http1, context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if decided {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        if mode == .priorKnowledge, let choice = H2CPreface.classify(buffered!.readableBytesView) {
            decide(choice, context: context)
        }
        // `.alpn`: bytes before the handshake event cannot happen (TLS delivers none before it); they are held.
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if decided { context.fireChannelReadComplete() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Nothing above understands a connection that has not chosen its protocol (failed handshake, reset).
        guard decided else {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    private func decide(_ choice: Choice, context: ChannelHandlerContext) {
        decided = true
        do {
            switch choice {
            case .http1:
                try ServerPipeline.configureHTTP1(
                    channel: context.channel, services: services, pools: pools, listener: nil, activity: activity,
                    security: security)
            case .http2:
                try HTTP2Pipeline.configure(
                    channel: context.channel, services: services, pools: pools, security: security)
            }
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// The HTTP/2 client connection preface (RFC 9113 §3.4) as a prefix test.
enum H2CPreface {
    static let bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// `.http2` once the whole preface is there, `.http1` as soon as a byte differs, nil while a prefix of it.
    static func classify<Bytes: Collection>(_ received: Bytes) -> ProtocolSelector.Choice? where Bytes.Element == UInt8 {
        var index = 0
        for byte in received {
            if index == bytes.count { break }
            if byte != bytes[index] { return .http1 }
            index += 1
        }
        return index == bytes.count ? .http2 : nil
    }
}
