import NIOCore
import NIOWebSocket

/// Echoes WebSocket messages after the upgrade (fragments are reassembled by `NIOWebSocketFrameAggregator`
/// before this handler). Text and binary frames come back unchanged; ping → pong; a close is answered with a
/// close carrying the same code, then the connection closes. The text message `__close__` makes the server
/// start the close handshake itself (code 1000), for tests of server-initiated closes.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var sentClose = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            if frame.opcode == .text, String(buffer: payload) == "__close__" {
                var code = context.channel.allocator.buffer(capacity: 2)
                code.write(webSocketErrorCode: .normalClosure)
                sendClose(code, context: context, thenClose: false)
                return
            }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: payload)), promise: nil)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            if sentClose {
                context.close(promise: nil)
            } else {
                var payload = frame.unmaskedData
                let code = payload.readSlice(length: min(2, payload.readableBytes)) ?? ByteBuffer()
                sendClose(code, context: context, thenClose: true)
            }
        case .pong, .continuation:
            break
        default:
            var code = context.channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .protocolError)
            sendClose(code, context: context, thenClose: true)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func sendClose(_ payload: ByteBuffer, context: ChannelHandlerContext, thenClose: Bool) {
        guard !sentClose else { return }
        sentClose = true
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        if thenClose {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
    }
}
