import GatewayConfig
import NIOHTTP1

/// Whether a proxied response is gzip-compressed (SPEC §3 "Compression"). Pure functions.
///
/// ```swift
/// let decision = CompressionRules.decide(settings: route.compress, requestMethod: head.method,
///                                        acceptEncoding: head.headers["accept-encoding"],
///                                        status: response.status, responseHeaders: response.headers)
/// if decision == .compress { CompressionRules.applyHeaders(to: &response.headers) }
/// ```
public enum CompressionRules {
    public enum Decision: Sendable, Equatable {
        case compress
        case skip(SkipReason)
    }

    public enum SkipReason: Sendable, Equatable {
        case disabled
        case clientDoesNotAcceptGzip
        case headRequest
        case statusWithoutBody
        case partialContent
        case alreadyEncoded
        case noTransform
        case tooSmall
        case typeNotCompressible
    }

    public static func decide(
        settings: CompressionSettings?, requestMethod: HTTPMethod, acceptEncoding: [String],
        status: HTTPResponseStatus, responseHeaders: HTTPHeaders
    ) -> Decision {
        guard let settings else { return .skip(.disabled) }
        guard AcceptEncoding(headerValues: acceptEncoding).acceptsGzip else { return .skip(.clientDoesNotAcceptGzip) }
        if requestMethod == .HEAD { return .skip(.headRequest) }
        let code = status.code
        if code < 200 || code == 204 || code == 304 { return .skip(.statusWithoutBody) }
        if code == 206 || responseHeaders.contains(name: "content-range") { return .skip(.partialContent) }
        if let encoding = responseHeaders["content-encoding"].first,
            encoding.trimmingASCIISpaces().lowercased() != "identity" || responseHeaders["content-encoding"].count > 1
        {
            return .skip(.alreadyEncoded)
        }
        if hasNoTransform(responseHeaders) { return .skip(.noTransform) }
        if let lengthText = responseHeaders["content-length"].first, let length = Int(lengthText.trimmingASCIISpaces()),
            length < settings.minBytes
        {
            return .skip(.tooSmall)
        }
        guard let contentType = responseHeaders["content-type"].first,
            isCompressible(contentType: contentType, types: settings.types)
        else { return .skip(.typeNotCompressible) }
        return .compress
    }

    /// Whether `Cache-Control` carries `no-transform` (any field line, any member).
    public static func hasNoTransform(_ headers: HTTPHeaders) -> Bool {
        headers["cache-control"].contains { value in
            value.split(separator: ",").contains { directive in
                directive.split(separator: "=", maxSplits: 1).first?.trimmingASCIISpaces().lowercased() == "no-transform"
            }
        }
    }

    /// Matches a `Content-Type` (parameters ignored, case-insensitive) against configured patterns:
    /// `text/*` (family), `+json` (structured suffix), `*/*` (anything) or an exact type.
    public static func isCompressible(contentType: String, types: [String]) -> Bool {
        let mediaType = (contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingASCIISpaces().lowercased()
        let pieces = mediaType.split(separator: "/", maxSplits: 1)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return false }
        let family = pieces[0]
        let subtype = pieces[1]
        for rawPattern in types {
            let pattern = rawPattern.trimmingASCIISpaces().lowercased()
            if pattern == "*/*" || pattern == "*" { return true }
            if pattern.hasPrefix("+") {
                if subtype.hasSuffix(pattern) { return true }
            } else if pattern.hasSuffix("/*") {
                if family == pattern.dropLast(2) { return true }
            } else if pattern == mediaType {
                return true
            }
        }
        return false
    }

    /// The header changes that go with compressing: `Content-Encoding: gzip`, `Content-Length` removed,
    /// `Vary: Accept-Encoding` merged (no duplicate, `*` left alone), a strong `ETag` made weak.
    public static func applyHeaders(to headers: inout HTTPHeaders) {
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "content-encoding", value: "gzip")
        mergeVary(into: &headers)
        if let etag = headers["etag"].first {
            let trimmed = etag.trimmingASCIISpaces()
            if trimmed.hasPrefix("\"") {
                headers.replaceOrAdd(name: "etag", value: "W/" + trimmed)
            }
        }
    }

    /// Adds `Accept-Encoding` to `Vary` unless it (or `*`) is already listed.
    public static func mergeVary(into headers: inout HTTPHeaders) {
        let listed = headers["vary"].flatMap { $0.split(separator: ",").map { $0.trimmingASCIISpaces().lowercased() } }
        if listed.contains("accept-encoding") || listed.contains("*") { return }
        if listed.isEmpty {
            headers.replaceOrAdd(name: "vary", value: "Accept-Encoding")
        } else {
            let existing = headers["vary"].joined(separator: ", ")
            headers.replaceOrAdd(name: "vary", value: existing + ", Accept-Encoding")
        }
    }
}
