import NIOCore

/// Sits first in an upgraded client pipeline (WebSocket tunnel or pub/sub socket) and counts raw bytes both ways;
/// when the connection closes it writes the connection's access-log line (`"event":"close"`, whole duration, bytes
/// in and out), since the upgrade's own line (`101`) is written at the handshake.
final class UpgradedConnectionLog: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var record: AccessRecord
    private let startedAt: NIODeadline
    private let observer: RequestObserver
    private var bytesIn = 0
    private var bytesOut = 0
    private var logged = false

    init(record: AccessRecord, startedAt: NIODeadline, observer: RequestObserver) {
        self.record = record
        self.startedAt = startedAt
        self.observer = observer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesIn += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        bytesOut += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    private func finish() {
        guard !logged else { return }
        logged = true
        record.time = AccessRecord.now()
        record.event = "close"
        record.durationMs = Double((NIODeadline.now() - startedAt).nanoseconds / 1000) / 1000
        record.bytesIn += bytesIn
        record.bytesOut += bytesOut
        observer.upgradedConnectionClosed(record)
    }
}
