import GatewayConfig
import NIOCore
import NIOHTTP1

/// How a client connection's pipeline is laid out:
/// [TLS: `NIOSSLServerHandler` → `TLSHandshakeObserver`] → `ClientTimeoutHandler` (bytes) → HTTP codec →
/// [TLS: `TLSResponseHeaders`] → `GzipResponseHandler` → `ProxyHandler` (which also does pipelining), or
/// `HTTPSRedirectHandler` instead of the proxy on `redirect_https` listeners.
enum ServerPipeline {
    static let compressorName = "gateway.compressor"
    static let proxyName = "gateway.proxy"

    static func configure(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools,
        listener: ListenerRuntime? = nil
    ) throws {
        let snapshot = services.snapshots.current
        let server = snapshot.server
        let activity = ConnectionActivity(
            headerTimeout: server.clientHeaderTimeout.timeAmount,
            idleTimeout: server.clientIdleTimeout.timeAmount)
        let sync = channel.pipeline.syncOperations
        let security = try ServerPipeline.addTLS(listener: listener, to: sync)
        try sync.addHandler(ClientTimeoutHandler(activity: activity))
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
        if security != nil {
            try sync.addHandler(TLSResponseHeaders(
                hsts: server.hsts?.headerValue, sessionCookie: snapshot.configuration.sessions?.cookie))
        }
        if snapshot.configuration.routes.contains(where: { $0.compress != nil }) {
            try sync.addHandler(GzipResponseHandler(), name: compressorName)
        }
        let pool = pools.pool(for: channel.eventLoop)
        let proxy = ProxyHandler(services: services, pool: pool, activity: activity)
        proxy.security = security
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
