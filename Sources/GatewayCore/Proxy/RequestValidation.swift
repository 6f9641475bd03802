import GatewayHTTP
import NIOHTTP1

/// Checks and small parsers on the request head.
enum RequestValidation {
    /// Request-smuggling shapes (RFC 9112 §6.3) and unsupported codings, or nil when framing is unambiguous.
    /// (The proxy runs the full `RequestScreening`; this is the framing part of it, as text.)
    static func framingProblem(_ head: HTTPRequestHead) -> String? {
        do {
            _ = try FramingRules.evaluate(
                contentLength: head.headers[canonicalForm: "content-length"].map(String.init),
                transferEncoding: head.headers[canonicalForm: "transfer-encoding"].map(String.init))
        } catch {
            switch error {
            case .badRequest(let detail), .notImplemented(let detail): return detail
            }
        }
        if head.headers[canonicalForm: "host"].count > 1 {
            return "More than one Host header."
        }
        return nil
    }

    /// Splits a request target into path and query (without `?`).
    static func splitURI(_ uri: String) -> (path: String, query: String?) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }

    /// `Host` without a port, lower-cased.
    static func hostWithoutPort(_ host: String?) -> String? {
        guard let host, !host.isEmpty else { return nil }
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { return String(host[...close]).lowercased() }
            return host.lowercased()
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]).lowercased() }
        return host.lowercased()
    }

    /// The value of cookie `name` from the request's `Cookie` headers.
    static func cookie(named name: String, in headers: HTTPHeaders) -> String? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters()
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }
}
