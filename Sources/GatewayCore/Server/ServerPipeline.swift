import GatewayConfig
import NIOCore
import NIOHTTP1

/// How a client connection's pipeline is laid out:
/// `ClientTimeoutHandler` (bytes) → HTTP codec (+ pipelining) → `GzipResponseHandler` → `ProxyHandler`.
enum ServerPipeline {
    static let compressorName = "gateway.compressor"
    static let proxyName = "gateway.proxy"

    static func configure(
        channel: any Channel,
        services: GatewayServices,
        pools: UpstreamPools
    ) throws {
        let snapshot = services.snapshots.current
        let server = snapshot.server
        let activity = ConnectionActivity(
            headerTimeout: server.clientHeaderTimeout.timeAmount,
            idleTimeout: server.clientIdleTimeout.timeAmount)
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ClientTimeoutHandler(activity: activity))
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = server.maxHeaderBytes
        limits.maxHeaderFieldSize = server.maxHeaderBytes
        try sync.configureHTTPServerPipeline(
            position: .last,
            withPipeliningAssistance: true,
            withServerUpgrade: nil,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
            withDecoderLimitConfiguration: limits
        )
        if snapshot.configuration.routes.contains(where: { $0.compress != nil }) {
            try sync.addHandler(GzipResponseHandler(), name: compressorName)
        }
        let pool = pools.pool(for: channel.eventLoop)
        try sync.addHandler(ProxyHandler(services: services, pool: pool, activity: activity), name: proxyName)
    }
}

/// One `UpstreamConnectionPool` per event loop, created up front so lookups need no lock.
final class UpstreamPools: Sendable {
    /// Each pool is only ever used on its own event loop; the dictionary itself is immutable after init.
    private let pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>]

    init(group: any EventLoopGroup) {
        var pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = NIOLoopBound(UpstreamConnectionPool(eventLoop: loop), eventLoop: loop)
        }
        self.pools = pools
    }

    func pool(for eventLoop: any EventLoop) -> UpstreamConnectionPool {
        if let bound = pools[ObjectIdentifier(eventLoop)] { return bound.value }
        preconditionFailure("no upstream pool for event loop \(eventLoop)")
    }

    func closeAll() async {
        for bound in pools.values {
            try? await bound.eventLoop.submit { bound.value.closeAll() }.get()
        }
    }
}
