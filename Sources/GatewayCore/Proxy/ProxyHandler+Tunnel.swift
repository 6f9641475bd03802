import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// The upstream accepted a WebSocket upgrade: answer the client's handshake with the upstream's 101, then replace
    /// the HTTP handlers of both connections with a byte splice. Frames (pings and pongs included) pass through
    /// untouched; the tunnel closes when either side closes or nothing moves for `client_idle`.
    func startTunnel(_ exchange: ProxyExchange, responseHead: HTTPResponseHead) {
        guard let context, let connection = exchange.connection else { return }
        if let key = exchange.head.headers.first(name: "sec-websocket-key"),
            responseHead.headers.first(name: "sec-websocket-accept") != WebSocketHandshake.acceptValue(forKey: key)
        {
            exchange.outcomeNote = "upstream WebSocket handshake has a wrong Sec-WebSocket-Accept"
            detachConnection(exchange, reusable: false)
            respondLocally(exchange, ProblemResponse(.badGateway, detail: "The upstream's WebSocket handshake is invalid."))
            return
        }
        var headers = ForwardedHeaders.downstreamHeaders(from: responseHead.headers, keepUpgrade: true)
        headers.replaceOrAdd(name: "X-Request-Id", value: exchange.requestID)
        exchange.connection = nil
        connection.handler.receiver = nil
        writeSwitchingProtocols(exchange, headers: headers, context: context)
        let route = exchange.routeName
        let observer = services.observer

        let (clientSide, upstreamSide) = TunnelHandler.matchedPair()
        clientSide.onClose = { observer.tunnelClosed(route: route) }
        do {
            // Client: the splice goes right after the byte-level timeout handler, then every HTTP handler leaves.
            let clientPipeline = context.pipeline.syncOperations
            let front = try clientPipeline.handler(type: ClientTimeoutHandler.self)
            try clientPipeline.addHandler(clientSide, position: .after(front))
            let idle = exchange.snapshot.server.clientIdleTimeout.timeAmount
            try clientPipeline.addHandler(IdleStateHandler(allTimeout: idle), position: .before(clientSide))
            try removeHTTPHandlers(from: clientPipeline)
        } catch {
            connection.channel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        // Upstream: we are inside its decoder's read (the 101 head), which will still emit the 101's `.end`; switch
        // that pipeline on the next tick. Bytes after the 101 stay in the decoder and are handed on when it leaves.
        connection.handler.upgraded = true
        let upstreamChannel = connection.channel
        let upstreamHandler = connection.handler
        upstreamChannel.eventLoop.assumeIsolated().execute {
            do {
                let upstreamPipeline = upstreamChannel.pipeline.syncOperations
                try upstreamPipeline.addHandler(upstreamSide)
                upstreamPipeline.removeHandler(upstreamHandler, promise: nil)
                upstreamPipeline.removeHandler(try upstreamPipeline.handler(type: HTTPRequestEncoder.self), promise: nil)
                upstreamPipeline.removeHandler(
                    try upstreamPipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
                upstreamChannel.read()
            } catch {
                upstreamChannel.close(promise: nil)
            }
        }
        leavePipelineAfterUpgrade(context: context)
    }
}
