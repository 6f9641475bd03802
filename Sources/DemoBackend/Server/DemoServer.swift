import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Binds the listener: HTTP/1.1 with keep-alive and pipelining, and a WebSocket echo on any upgrade request.
enum DemoServer {
    static let httpHandlerName = "demo-http"

    static func bind(options: DemoOptions, group: EventLoopGroup) throws -> Channel {
        let replica = options.name
        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 1 << 24,
                        automaticErrorHandling: true,
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0,
                                        maxAccumulatedFrameCount: 1 << 16,
                                        maxAccumulatedFrameSize: 1 << 24
                                    )
                                )
                                try channel.pipeline.syncOperations.addHandler(WebSocketEchoHandler())
                            }
                        }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.removeHandler(name: DemoServer.httpHandlerName, promise: nil)
                            }
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        DemoHTTPHandler(replica: replica),
                        name: DemoServer.httpHandlerName
                    )
                }
            }
            .bind(host: options.host, port: options.port)
            .wait()
    }
}
