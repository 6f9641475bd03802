import GatewayConfig
import NIOCore
import NIOHTTP1

/// How a client connection's pipeline is laid out:
/// [TLS: `NIOSSLServerHandler` → `TLSHandshakeObserver`] → `ClientTimeoutHandler` (bytes) → HTTP codec →
/// [TLS: `TLSResponseHeaders`] → `GzipResponseHandler` → `ProxyHandler` (which also does pipelining), or
/// `HTTPSRedirectHandler` instead of the proxy on `redirect_https` listeners.
///
/// On HTTP/2 listeners a `ProtocolSelector` stands where the HTTP codec goes until ALPN (or the h2c preface) has
/// decided; for `h2` it lays out `HTTP2Pipeline` instead, where every stream gets its own codec → … → proxy.
enum ServerPipeline {
    static let compressorName = "gateway.compressor"
    static let proxyName = "gateway.proxy"

    static func configure(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools,
        listener: ListenerRuntime? = nil
    ) throws {
        let server = services.snapshots.current.server
        let activity = ConnectionActivity(
            headerTimeout: server.clientHeaderTimeout.timeAmount,
            idleTimeout: server.clientIdleTimeout.timeAmount)
        let sync = channel.pipeline.syncOperations
        let security = try ServerPipeline.addTLS(listener: listener, to: sync)
        try sync.addHandler(ClientTimeoutHandler(activity: activity))
        if let listener, listener.settings.servesHTTP2 {
            try sync.addHandler(ProtocolSelector(
                mode: security == nil ? .priorKnowledge : .alpn,
                services: services, pools: pools, activity: activity, security: security))
            return
        }
        try configureHTTP1(
            channel: channel, services: services, pools: pools, listener: listener, activity: activity,
            security: security)
    }

    /// The HTTP/1.1 codec and the handlers above it (position: last).
    static func configureHTTP1(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools,
        listener: ListenerRuntime?,
        activity: ConnectionActivity,
        security: ConnectionSecurity?
    ) throws {
        let server = services.snapshots.current.server
        let sync = channel.pipeline.syncOperations
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = server.maxHeaderBytes
        limits.maxHeaderFieldSize = server.maxHeaderBytes
        try sync.configureHTTPServerPipeline(
            position: .last,
            withPipeliningAssistance: false,
            withServerUpgrade: nil,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
            withDecoderLimitConfiguration: limits
        )
        if let port = listener?.settings.redirectHTTPS {
            try sync.addHandler(HTTPSRedirectHandler(port: port), name: proxyName)
            return
        }
        try addExchangeHandlers(
            channel: channel, services: services, pools: pools, activity: activity, security: security,
            countsConnection: true)
    }

    /// Above an HTTP codec (HTTP/1.1, or one HTTP/2 stream's `HTTP2FramePayloadToHTTP1ServerCodec`): TLS response
    /// headers, gzip, the proxy. `countsConnection` is false on HTTP/2 streams (the connection is counted once).
    static func addExchangeHandlers(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools,
        activity: ConnectionActivity,
        security: ConnectionSecurity?,
        countsConnection: Bool
    ) throws {
        let snapshot = services.snapshots.current
        let sync = channel.pipeline.syncOperations
        if security != nil {
            try sync.addHandler(TLSResponseHeaders(
                hsts: snapshot.server.hsts?.headerValue, sessionCookie: snapshot.configuration.sessions?.cookie))
        }
        if snapshot.configuration.routes.contains(where: { $0.compress != nil }) {
            try sync.addHandler(GzipResponseHandler(), name: compressorName)
        }
        let pool = pools.pool(for: channel.eventLoop)
        let proxy = ProxyHandler(services: services, pool: pool, activity: activity)
        proxy.security = security
        proxy.countsConnection = countsConnection
        try sync.addHandler(proxy, name: proxyName)
    }
}

/// One `UpstreamConnectionPool` per event loop, created up front so lookups need no lock.
final class UpstreamPools: Sendable {
    private let pools: [ObjectIdentifier: LoopConfined<UpstreamConnectionPool>]

    init(group: any EventLoopGroup) {
        var pools: [ObjectIdentifier: LoopConfined<UpstreamConnectionPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = LoopConfined(UpstreamConnectionPool(eventLoop: loop), eventLoop: loop)
        }
        self.pools = pools
    }

    func pool(for eventLoop: any EventLoop) -> UpstreamConnectionPool {
        if let confined = pools[ObjectIdentifier(eventLoop)] { return confined.value }
        preconditionFailure("no upstream pool for event loop \(eventLoop)")
    }

    func closeAll() async {
        for confined in pools.values {
            try? await confined.eventLoop.submit { confined.value.closeAll() }.get()
        }
    }
}

/// A value created anywhere but only ever used on `eventLoop`.
///
/// `@unchecked Sendable` holds because every read of `value` asserts (preconditions) that it happens on that one
/// event loop's thread, so the value is never touched from two threads. (`NIOLoopBound` would be the tool, but its
/// initializer must already run on the loop.)
struct LoopConfined<Value>: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let wrapped: Value

    init(_ value: Value, eventLoop: any EventLoop) {
        self.wrapped = value
        self.eventLoop = eventLoop
    }

    var value: Value {
        eventLoop.preconditionInEventLoop()
        return wrapped
    }
}
