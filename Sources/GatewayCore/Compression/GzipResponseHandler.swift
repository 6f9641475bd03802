import CompressNIO
import NIOCore
import NIOHTTP1

/// Gzip-compresses the bodies of responses that `ResponseCompression` marked, as they stream: each body part is fed
/// to zlib as it is written, and every flush ends with a sync flush so a slowly produced response (server-sent
/// events, logs) reaches the client piece by piece instead of waiting for the end.
final class GzipResponseHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var compressor: ZlibCompressor?
    private var compressorLevel: Int32 = -1
    private var active = false
    /// Bytes went into zlib since the last sync flush.
    private var unflushed = false
    /// Body bytes written downstream for the current response, after compression: what the access log's
    /// `bytes_out` reports (reset at each response head).
    private(set) var lastResponseBodyBytes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            lastResponseBodyBytes = 0
            guard let levelText = head.headers.first(name: ResponseCompression.markerHeader) else {
                context.write(data, promise: promise)
                return
            }
            head.headers.remove(name: ResponseCompression.markerHeader)
            do {
                try start(level: Int32(levelText) ?? 5)
            } catch {
                // zlib refused to start: send the response uncompressed rather than fail it.
                head.headers.remove(name: "content-encoding")
                context.write(wrapOutboundOut(.head(head)), promise: promise)
                return
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body(.byteBuffer(var input)) where active:
            do {
                let output = try deflate(&input, flush: .no, allocator: context.channel.allocator)
                unflushed = true
                if output.readableBytes > 0 {
                    lastResponseBodyBytes += output.readableBytes
                    context.write(wrapOutboundOut(.body(.byteBuffer(output))), promise: promise)
                } else {
                    promise?.succeed(())
                }
            } catch {
                fail(context: context, error: error, promise: promise)
            }
        case .end(let trailers) where active:
            do {
                var empty = context.channel.allocator.buffer(capacity: 0)
                let output = try deflate(&empty, flush: .finish, allocator: context.channel.allocator)
                active = false
                unflushed = false
                if output.readableBytes > 0 {
                    lastResponseBodyBytes += output.readableBytes
                    context.write(wrapOutboundOut(.body(.byteBuffer(output))), promise: nil)
                }
                context.write(wrapOutboundOut(.end(trailers)), promise: promise)
            } catch {
                fail(context: context, error: error, promise: promise)
            }
        case .body(let body):
            lastResponseBodyBytes += body.readableBytes
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if active && unflushed {
            var empty = context.channel.allocator.buffer(capacity: 0)
            if let output = try? deflate(&empty, flush: .sync, allocator: context.channel.allocator),
                output.readableBytes > 0
            {
                lastResponseBodyBytes += output.readableBytes
                context.write(wrapOutboundOut(.body(.byteBuffer(output))), promise: nil)
            }
            unflushed = false
        }
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        compressor = nil
    }

    private func start(level: Int32) throws {
        let level = max(1, min(9, level))
        if let compressor, compressorLevel == level {
            try compressor.reset()
        } else {
            compressor = try ZlibCompressor(
                algorithm: .gzip, configuration: ZlibConfiguration(compressionLevel: level))
            compressorLevel = level
        }
        active = true
        unflushed = false
    }

    /// Runs zlib until it has taken all of `input` and, for sync/finish, emitted everything pending: zlib may need
    /// more output room than one buffer (data buffered from earlier parts comes out at a flush).
    private func deflate(_ input: inout ByteBuffer, flush: CompressNIOFlush, allocator: ByteBufferAllocator) throws
        -> ByteBuffer
    {
        guard let compressor else { return allocator.buffer(capacity: 0) }
        var output = allocator.buffer(capacity: compressor.maxSize(from: input) + 1024)
        for _ in 0..<10_000 {
            do {
                try compressor.deflate(from: &input, to: &output, flush: flush)
                if input.readableBytes == 0 && output.writableBytes > 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // Out of room (or, at finish, not done yet): grow and go on.
            }
            output.reserveCapacity(minimumWritableBytes: max(16 * 1024, output.readableBytes))
        }
        throw CompressNIOError.bufferOverflow
    }

    private func fail(context: ChannelHandlerContext, error: any Error, promise: EventLoopPromise<Void>?) {
        active = false
        promise?.fail(error)
        context.close(promise: nil)
    }
}
