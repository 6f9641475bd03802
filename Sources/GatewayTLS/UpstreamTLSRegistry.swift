import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// The client TLS context of every `https://` replica, by upstream name and replica URL (two upstreams may name the
/// same replica with different `tls` settings), shared by the proxy's connection pools and the
/// active health checks (two layers that otherwise share no state). Replaced whole at start and on reload.
///
/// A process-wide instance because the health checker and the pools are built in different modules without a common
/// owner to thread it through; two gateways in one test process only collide when they name the same upstream and
/// replica URL.
public final class UpstreamTLSRegistry: Sendable {
    public static let shared = UpstreamTLSRegistry()

    private let contexts = NIOLockedValueBox<[String: ClientTLSContext]>([:])

    public init() {}

    public func replaceAll(_ next: [String: ClientTLSContext]) {
        contexts.withLockedValue { $0 = next }
    }

    public func context(upstream: String, replica url: String) -> ClientTLSContext? {
        contexts.withLockedValue { $0[Self.key(upstream: upstream, replica: url)] }
    }

    public static func key(upstream: String, replica url: String) -> String { upstream + " " + url }
}

/// Completes `promise` when the TLS handshake finished (or fails it with the handshake error), so a replica with an
/// untrusted certificate is a connect failure (→ 502, logged) rather than a connection that dies after the request
/// was written. Removes itself afterwards.
public final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>

    public init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            promise.succeed()
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(UpstreamTLSError(underlying: "\(error)"))
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        promise.fail(UpstreamTLSError(underlying: "connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }
}

public struct UpstreamTLSError: Error, CustomStringConvertible {
    public var underlying: String
    public var description: String { "TLS handshake failed: \(underlying)" }
}
