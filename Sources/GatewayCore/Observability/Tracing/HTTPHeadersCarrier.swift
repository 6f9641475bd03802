import Instrumentation
import NIOHTTP1

/// Reads `traceparent`/`tracestate` from a client's request head (W3C Trace Context).
struct HTTPHeadersExtractor: Extractor {
    func extract(key: String, from carrier: HTTPHeaders) -> String? {
        carrier.first(name: key)
    }
}

/// Writes `traceparent`/`tracestate` into the head sent upstream, replacing whatever the client sent.
struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
