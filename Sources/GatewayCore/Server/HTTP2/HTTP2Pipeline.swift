import GatewayConfig
import NIOCore
import NIOHTTP2

/// The pipeline of an HTTP/2 client connection:
/// [TLS] → `NIOHTTP2Handler` (frames, HPACK, flow control, flood limits; its inline multiplexer makes one child
/// channel per stream) → `HTTP2ConnectionKeeper` (idle close, graceful GOAWAY, counting, closing on floods).
///
/// Every stream channel: `HTTP2FramePayloadToHTTP1ServerCodec` → the same handlers as an HTTP/1.1 connection
/// (`ServerPipeline.addExchangeHandlers`: TLS headers, gzip, `ProxyHandler`), so each stream is one exchange
/// through routing, policies, balancing, retries, compression, access log and metrics. The stream channel's
/// writability follows its flow-control window, which is how a slow HTTP/2 reader slows the upstream read.
enum HTTP2Pipeline {
    static func configure(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools,
        security: ConnectionSecurity?
    ) throws {
        let sync = channel.pipeline.syncOperations
        // The HTTP/1 head/idle timer does not apply to a multiplexed connection; the keeper's idle timer does.
        if let timeouts = try? sync.context(handlerType: ClientTimeoutHandler.self) {
            sync.removeHandler(context: timeouts, promise: nil)
        }
        let snapshot = services.snapshots.current
        let settings = snapshot.server.http2
        let headerTimeout = snapshot.server.clientHeaderTimeout.timeAmount
        let idleTimeout = snapshot.server.clientIdleTimeout.timeAmount
        let boundSecurity = NIOLoopBound(security, eventLoop: channel.eventLoop)
        let keeper = HTTP2ConnectionKeeper(observer: services.observer, idleTimeout: idleTimeout)
        // Streams are counted from their channels: nio-http2's stream delegate is not told about inbound streams
        // whose channel is created after the "stream created" event.
        let streams = HTTP2StreamEvents(keeper: NIOLoopBound(keeper, eventLoop: channel.eventLoop))
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: connectionConfiguration(settings),
            streamConfiguration: streamConfiguration(settings),
            position: .last
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                let id = try stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
                streams.opened(stream, id: id ?? .rootStream)
                let streamSync = stream.pipeline.syncOperations
                try streamSync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                // Per stream, the connection timers stay unarmed (no `ClientTimeoutHandler` front).
                let activity = ConnectionActivity(headerTimeout: headerTimeout, idleTimeout: idleTimeout)
                try ServerPipeline.addExchangeHandlers(
                    channel: stream, services: services, pools: pools, activity: activity,
                    security: boundSecurity.value, countsConnection: false)
            }
        }
        try sync.addHandler(keeper)
    }

    /// SETTINGS we announce and the connection-wide flood limits (SPEC §7).
    static func connectionConfiguration(_ settings: HTTP2ServerSettings) -> NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: settings.maxHeaderListBytes),
            // No server push.
            HTTP2Setting(parameter: .enablePush, value: 0),
        ]
        // Ping and SETTINGS floods.
        configuration.controlFrameRateLimit.maximumCount = settings.maxControlFrames
        configuration.controlFrameRateLimit.windowLength = settings.controlFrameWindow.timeAmount
        // CONTINUATION flood (CVE-2024-27316): nio-http2's default ends the connection after 5 CONTINUATION frames
        // in a row (GOAWAY ENHANCE_YOUR_CALM); the block's size is bounded by SETTINGS_MAX_HEADER_LIST_SIZE anyway.
        return configuration
    }

    /// Per-stream flow control and the rapid-reset limit (CVE-2023-44487).
    static func streamConfiguration(_ settings: HTTP2ServerSettings) -> NIOHTTP2Handler.StreamConfiguration {
        var configuration = NIOHTTP2Handler.StreamConfiguration()
        configuration.streamResetFrameRateLimit.maximumCount = settings.maxResets
        configuration.streamResetFrameRateLimit.windowLength = settings.resetWindow.timeAmount
        return configuration
    }
}
