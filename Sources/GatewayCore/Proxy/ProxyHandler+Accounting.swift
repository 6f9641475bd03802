import NIOCore

/// Small helpers the response path calls so the access log and metrics count what was actually sent.
extension ProxyHandler {
    /// For a gzipped response, the compressor that knows its size on the wire. It produces the last bytes while
    /// `.end` is written, so such an exchange is observed right after that write (`finishObservation`), not before.
    func compressorCountingBytes(_ exchange: ProxyExchange) -> GzipResponseHandler? {
        guard exchange.compress, let context else { return nil }
        return try? context.pipeline.syncOperations.handler(type: GzipResponseHandler.self)
    }

    /// `bytes_out` = the compressed body size (nginx's `$body_bytes_sent`), then the usual observation.
    func finishObservation(_ exchange: ProxyExchange, compressor: GzipResponseHandler) {
        exchange.responseBytes = compressor.lastResponseBodyBytes
        services.observer.requestFinished(exchange)
    }
}
