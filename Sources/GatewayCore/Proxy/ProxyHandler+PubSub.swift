import CoreMetrics
import NIOCore
import NIOHTTP1
import NIOWebSocket

extension ProxyHandler {
    /// A `pubsub` route: the gateway itself is the WebSocket server (SPEC §5). Runs on the event loop after the request
    /// phase (so `exchange.policy.sessionUser` is known); the handshake was validated already.
    ///
    /// Answers 101, then replaces the HTTP handlers with `WebSocketFrameDecoder` → `PubSubSocketHandler` right after
    /// the byte-level `ClientTimeoutHandler`.
    func beginPubSub(_ exchange: ProxyExchange, route: CompiledRoute, context: ChannelHandlerContext) {
        guard let settings = route.settings.pubsub, let endpoint = services.pubsub else {
            respondLocally(
                exchange,
                ProblemResponse(
                    .serviceUnavailable, detail: "Pub/sub is not available in this gateway.",
                    headers: [("Retry-After", "1")]))
            return
        }
        if settings.transport == .sse {
            beginSSE(exchange, route: route, settings: settings, endpoint: endpoint, context: context)
            return
        }
        guard exchange.isWebSocketUpgrade else {
            respondLocally(
                exchange,
                ProblemResponse(
                    .upgradeRequired, detail: "This route is a WebSocket pub/sub endpoint: send a WebSocket handshake.",
                    headers: [("Upgrade", "websocket")]))
            return
        }
        guard let key = exchange.head.headers.first(name: "sec-websocket-key") else { return }

        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.acceptValue(forKey: key))
        headers.add(name: "X-Request-Id", value: exchange.requestID)
        for (name, value) in exchange.policy.responseHeaders { headers.add(name: name, value: value) }
        writeSwitchingProtocols(exchange, headers: headers, context: context)

        let routeName = exchange.routeName
        let observer = services.observer
        let (_, query) = RequestValidation.splitURI(exchange.head.uri)
        let socket = PubSubSocketHandler(
            endpoint: endpoint,
            settings: settings,
            user: exchange.policy.sessionUser,
            initialChannels: PubSubQuery.channels(query),
            onClose: { observer.tunnelClosed(route: routeName) },
            onSlowConsumer: { CoreMetrics.Counter(label: "gateway_pubsub_slow_consumers_total").increment() },
            route: routeName, clientIP: exchange.clientIP)
        do {
            let pipeline = context.pipeline.syncOperations
            // Memory stays bounded per subscriber: past this much queued output the connection is closed with 1013.
            try context.channel.syncOptions?.setOption(
                .writeBufferWaterMark,
                value: ChannelOptions.Types.WriteBufferWaterMark(
                    low: max(1, settings.maxQueuedBytes / 2), high: max(2, settings.maxQueuedBytes)))
            let front = try pipeline.handler(type: ClientTimeoutHandler.self)
            let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: settings.maxMessageBytes))
            try pipeline.addHandler(decoder, position: .after(front))
            // Keepalive: after `client_idle` without a byte from the client the socket pings it (see the handler).
            let idle = exchange.snapshot.server.clientIdleTimeout.timeAmount
            try pipeline.addHandler(IdleStateHandler(readTimeout: idle), position: .before(decoder))
            try pipeline.addHandler(socket, position: .after(decoder))
            try removeHTTPHandlers(from: pipeline)
        } catch {
            context.close(promise: nil)
            return
        }
        leavePipelineAfterUpgrade(context: context)
    }
}
