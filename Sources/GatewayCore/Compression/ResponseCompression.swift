import GatewayConfig
import GatewayPolicies
import NIOHTTP1

/// The gateway's compression decision for one response (SPEC §3; rules in `CompressionRules`). The bytes are then
/// compressed by `GzipResponseHandler`, told through a marker header that carries the level and never leaves the
/// gateway.
enum ResponseCompression {
    static let markerHeader = "x-gateway-gzip-level"

    /// Adjusts `headers` for the response and returns whether it will be compressed.
    static func prepare(
        _ headers: inout HTTPHeaders,
        status: HTTPResponseStatus,
        request: HTTPRequestHead,
        settings: CompressionSettings
    ) -> Bool {
        let decision = CompressionRules.decide(
            settings: settings,
            requestMethod: request.method,
            acceptEncoding: request.headers[canonicalForm: "accept-encoding"].map(String.init),
            status: status,
            responseHeaders: headers)
        switch decision {
        case .compress:
            CompressionRules.applyHeaders(to: &headers)
            headers.replaceOrAdd(name: markerHeader, value: String(settings.level))
            return true
        case .skip(.clientDoesNotAcceptGzip), .skip(.tooSmall), .skip(.headRequest):
            // The representation would be compressed for another client (or another size): caches must know.
            if !headers.contains(name: "content-encoding"),
                let type = headers.first(name: "content-type"),
                CompressionRules.isCompressible(contentType: type, types: settings.types)
            {
                CompressionRules.mergeVary(into: &headers)
            }
            return false
        case .skip:
            return false
        }
    }
}
