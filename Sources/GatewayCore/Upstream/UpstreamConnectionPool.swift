import GatewayTLS
import GatewayUpstreams
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive connection to a replica, owned by the pool of the event loop it lives on.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamConnectionHandler
    let replicaKey: String
    var idleSince: NIODeadline = .now()

    init(channel: any Channel, handler: UpstreamConnectionHandler, replicaKey: String) {
        self.channel = channel
        self.handler = handler
        self.replicaKey = replicaKey
    }

    var isUsable: Bool { handler.isActive && channel.isActive }
}

/// Keep-alive connections to replicas for ONE event loop. Client connections use upstream connections on their own
/// loop, so a request never hops threads and this pool needs no lock: it is only touched on `eventLoop`.
final class UpstreamConnectionPool {
    let eventLoop: any EventLoop
    private var idle: [String: [UpstreamConnection]] = [:]
    /// Idle connections older than this are closed instead of reused (upstreams commonly drop idle ones at 60 s+).
    private let maxIdleTime: TimeAmount = .seconds(30)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// A pooled connection to `replica` if one is idle (and `fresh` is false), else a new one. Upgrades ask for a
    /// fresh connection: many servers only switch protocols on a connection's first request. The pool key is the
    /// replica's precomputed `poolKey` (nothing formatted per request).
    func acquire(
        _ replica: Replica, connectTimeout: TimeAmount, fresh: Bool = false, tls: ClientTLSContext? = nil
    ) -> EventLoopFuture<UpstreamConnection> {
        eventLoop.preconditionInEventLoop()
        let key = replica.poolKey
        let now = NIODeadline.now()
        // Popped in place: copying the stack out of the dictionary and back made a copy of the array (a heap
        // allocation and an O(keepalive) copy) on every request.
        while !fresh, let connection = idle[key]?.popLast() {
            if connection.isUsable, now - connection.idleSince < maxIdleTime {
                return eventLoop.assumeIsolated().makeSucceededFuture(connection)
            }
            connection.channel.close(promise: nil)
        }
        return connect(host: replica.host, port: replica.port, key: key, connectTimeout: connectTimeout, tls: tls)
    }

    /// Returns a connection whose last exchange completed cleanly; keeps at most `keepalive` idle per replica.
    func release(_ connection: UpstreamConnection, keepalive: Int) {
        eventLoop.preconditionInEventLoop()
        connection.handler.receiver = nil
        guard connection.isUsable, keepalive > 0 else {
            connection.channel.close(promise: nil)
            return
        }
        guard (idle[connection.replicaKey]?.count ?? 0) < keepalive else {
            connection.channel.close(promise: nil)
            return
        }
        connection.idleSince = .now()
        // Appended in place (an emptied stack keeps its key and storage, so this does not allocate either).
        idle[connection.replicaKey, default: []].append(connection)
        // Keep reading while idle so an upstream close is noticed (and the connection dropped) at once.
        connection.handler.resumeReading()
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        for (_, stack) in idle {
            for connection in stack { connection.channel.close(promise: nil) }
        }
        idle.removeAll()
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    private func remove(_ connection: UpstreamConnection) {
        guard var stack = idle[connection.replicaKey] else { return }
        stack.removeAll { $0 === connection }
        idle[connection.replicaKey] = stack.isEmpty ? nil : stack
    }

    private func connect(host: String, port: Int, key: String, connectTimeout: TimeAmount, tls: ClientTLSContext?)
        -> EventLoopFuture<UpstreamConnection>
    {
        let handshake = eventLoop.makePromise(of: Void.self)
        if tls == nil { handshake.succeed() }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(try tls.makeHandler(host: host))
                        try sync.addHandler(TLSHandshakeWaiter(promise: handshake))
                    }
                    // As `addHTTPClientHandlers`, but with 1xx responses (103 Early Hints …) passed on: the proxy
                    // forwards them to HTTP/1.1 clients (RFC 9110 §15.2).
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(
                        ByteToMessageHandler(
                            HTTPResponseDecoder(
                                leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)))
                    try sync.addHandler(UpstreamConnectionHandler())
                }
            }
        let connected = bootstrap.connect(host: host, port: port)
        connected.whenFailure { handshake.fail($0) }
        return connected.and(handshake.futureResult).map(\.0).assumeIsolated().flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
            let connection = UpstreamConnection(channel: channel, handler: handler, replicaKey: key)
            handler.onClose = { [weak self, weak connection] in
                guard let self, let connection else { return }
                self.remove(connection)
            }
            return connection
        }.nonisolated()
    }
}
