import NIOCore
import NIOHTTP1

/// The steps both kinds of WebSocket connection share when the client connection stops speaking HTTP: a proxied
/// tunnel (`startTunnel`) and the gateway's own pub/sub socket (`beginPubSub`).
extension ProxyHandler {
    /// Answers the handshake with a 101 and records the exchange as finished (and the socket as open).
    func writeSwitchingProtocols(_ exchange: ProxyExchange, headers: HTTPHeaders, context: ChannelHandlerContext) {
        exchange.responseStarted = true
        exchange.responseStatus = 101
        exchange.phase = .tunnel
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))),
            promise: nil)
        services.observer.requestFinished(exchange)
        services.observer.tunnelOpened(route: exchange.routeName)
        logConnectionAtClose(exchange, context: context)
    }

    /// Issue 18: an upgraded connection also gets an access-log line when it closes (duration, bytes both ways).
    private func logConnectionAtClose(_ exchange: ProxyExchange, context: ChannelHandlerContext) {
        guard services.observer.accessLog != nil else { return }
        var record = RequestObserver.record(
            exchange, route: exchange.routeName, method: exchange.head.method.rawValue, elapsed: .zero)
        record.bytesOut = 0
        let log = UpgradedConnectionLog(record: record, startedAt: exchange.startedAt, observer: services.observer)
        try? context.pipeline.syncOperations.addHandler(log, position: .first)
    }

    /// Removes the HTTP handlers from the client pipeline (after the 101 went through the encoder).
    func removeHTTPHandlers(from pipeline: ChannelPipeline.SynchronousOperations) throws {
        if let compressor = try? pipeline.handler(type: GzipResponseHandler.self) {
            pipeline.removeHandler(compressor, promise: nil)
        }
        pipeline.removeHandler(try pipeline.handler(type: HTTPResponseEncoder.self), promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
    }

    /// The connection is no longer HTTP: this handler leaves the pipeline and reading resumes for the new one.
    func leavePipelineAfterUpgrade(context: ChannelHandlerContext) {
        exchange = nil
        activity.requestHeadReceived()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        context.channel.read()
    }
}
