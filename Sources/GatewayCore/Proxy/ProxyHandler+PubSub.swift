import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// A `pubsub` route: the gateway itself is the WebSocket server.
    func beginPubSub(_ exchange: ProxyExchange, route: CompiledRoute, context: ChannelHandlerContext) {
        respondLocally(exchange, ProblemResponse(.notImplemented, detail: "Pub/sub routes are not available yet."))
    }
}
