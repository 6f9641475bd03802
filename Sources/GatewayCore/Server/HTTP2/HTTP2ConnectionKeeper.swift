import CoreMetrics
import NIOCore
import NIOHTTP2

/// Connection-level duties of an HTTP/2 client connection, right above `NIOHTTP2Handler`:
/// - counts the connection once in `gateway_connections_open` (its streams are not connections);
/// - closes it after `timeouts.client_idle` without open streams (GOAWAY `NO_ERROR` first), the HTTP/2 form of
///   the keep-alive timeout;
/// - on graceful shutdown (`ChannelShouldQuiesceEvent`) sends GOAWAY, lets open streams finish, then closes;
/// - closes it on a connection error: `NIOHTTP2Handler` has already sent GOAWAY (`ENHANCE_YOUR_CALM` for the
///   floods, `PROTOCOL_ERROR`, …); floods are counted in `gateway_http2_flood_closes_total{reason}`.
final class HTTP2ConnectionKeeper: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let observer: RequestObserver
    private let idleTimeout: TimeAmount
    private var openStreams = 0
    private var lastStreamID = HTTP2StreamID.rootStream
    private var counted = false
    private var draining = false
    private var idleTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(observer: RequestObserver, idleTimeout: TimeAmount) {
        self.observer = observer
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            counted = true
            observer.connectionOpened()
        }
        armIdleTimer(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        if counted {
            counted = false
            observer.connectionClosed()
        }
        context.fireChannelInactive()
    }

    /// From `HTTP2StreamEvents` (the inline multiplexer does not fire stream events down the connection pipeline).
    func streamOpened(_ id: HTTP2StreamID) {
        openStreams += 1
        if id > lastStreamID { lastStreamID = id }
        idleTimer?.cancel()
        idleTimer = nil
    }

    func streamEnded() {
        openStreams = max(0, openStreams - 1)
        guard openStreams == 0, let context else { return }
        if draining {
            context.close(promise: nil)
        } else {
            armIdleTimer(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Streams up to the last one seen are still answered (each stream's proxy also got the event and
            // ends after its response); the client opens new ones on a new connection.
            draining = true
            goAway(context: context, code: .noError)
            if openStreams == 0 { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let reason = Self.floodReason(error) {
            CoreMetrics.Counter(label: "gateway_http2_flood_closes_total", dimensions: [("reason", reason)])
                .increment()
            context.close(promise: nil)
        } else if !(error is any NIOHTTP2Error) || error is NIOHTTP2Errors.BadClientMagic {
            // I/O and TLS errors, or not HTTP/2 at all: the connection is gone or useless.
            context.close(promise: nil)
        }
        // Other HTTP/2 errors: NIOHTTP2Handler has answered them with RST_STREAM (a stream error: the connection
        // serves on) or GOAWAY (the peer closes; else the idle timer does once the streams are gone).
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let channel = context.channel
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            guard let self, self.openStreams == 0, let context = try? channel.pipeline.syncOperations.context(handler: self)
            else { return }
            self.goAway(context: context, code: .noError)
            context.close(promise: nil)
        }
    }

    private func goAway(context: ChannelHandlerContext, code: HTTP2ErrorCode) {
        let frame = HTTP2Frame(
            streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: code, opaqueData: nil))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// The flood defences' errors, by the SPEC's names.
    static func floodReason(_ error: any Error) -> String? {
        switch error {
        case is NIOHTTP2Errors.ExcessiveRSTFrames, is NIOHTTP2Errors.ExcessiveStreamErrors: return "rapid_reset"
        case is NIOHTTP2Errors.ExcessiveContinuationFrames: return "continuation"
        case is NIOHTTP2Errors.ExcessiveControlFrames: return "control_frames"
        case is NIOHTTP2Errors.ExcessivelyLargeHeaderBlock: return "header_block"
        case is NIOHTTP2Errors.ExcessiveEmptyDataFrames: return "empty_data"
        case is NIOHTTP2Errors.ExcessiveNumberOfGlitches: return "glitches"
        case is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering: return "outbound_buffering"
        default: return nil
        }
    }
}

/// Tells the connection's keeper about one more stream and, through its close future, about its end. Used on the
/// connection's event loop (stream channels share it).
struct HTTP2StreamEvents: Sendable {
    let keeper: NIOLoopBound<HTTP2ConnectionKeeper>

    func opened(_ stream: any Channel, id: HTTP2StreamID) {
        let keeper = self.keeper
        keeper.value.streamOpened(id)
        stream.closeFuture.whenComplete { _ in keeper.value.streamEnded() }
    }
}
