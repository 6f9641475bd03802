import NIOCore

extension ProxyHandler {
    /// A connection's pipeline gets a `GzipResponseHandler` only when some route compressed at the time it was
    /// built. A reload can turn `compress` on later: without this, such a connection sent `Content-Encoding: gzip`
    /// over an uncompressed body and leaked the internal level marker to the client. The compressor is added in front
    /// of this handler (between it and the HTTP encoder) the first time a response of this connection needs it.
    func ensureCompressor() {
        guard let context else { return }
        let sync = context.pipeline.syncOperations
        if (try? sync.handler(type: GzipResponseHandler.self)) != nil { return }
        try? sync.addHandler(GzipResponseHandler(), name: ServerPipeline.compressorName, position: .before(self))
    }
}
