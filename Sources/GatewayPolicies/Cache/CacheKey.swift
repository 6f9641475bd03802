import Crypto
import GatewayConfig

/// The cache key of a request: the route's components (SPEC §11 `key:`) give the primary key; the response's
/// `Vary` fields select the variant within it (RFC 9111 §4.1).
///
/// `HEAD` shares the `GET` key, so a `HEAD` is answered from a cached `GET` (RFC 9110 §9.3.2).
public struct CacheKey: Sendable, Equatable {
    /// Human-readable, e.g. `catalog GET example.com /api/v1/catalog/1 a=1`: what `POST /cache/purge {"key": …}` takes.
    public let text: String
    /// 32 hex characters of SHA-256(text): the Redis hash tag and memory-tier key.
    public let digest: String

    public init(text: String) {
        self.text = text
        self.digest = Self.hex(text)
    }

    /// `header(name)` returns the request's values of a (lower-cased) field, combined with ", ".
    public static func primary(
        route: String, components: [CacheKeyComponent], method: String, host: String, path: String, query: String?,
        header: (String) -> String?
    ) -> CacheKey {
        var parts = [route]
        for component in components {
            switch component {
            case .method: parts.append(method == "HEAD" ? "GET" : method)
            case .host: parts.append(host.lowercased())
            case .path: parts.append(path)
            case .query: parts.append(query ?? "")
            case .header(let name): parts.append("\(name)=\(header(name) ?? "")")
            }
        }
        return CacheKey(text: parts.joined(separator: " "))
    }

    /// The variant id for the request's values of the `Vary` fields (`names` lower-cased, sorted). Must match
    /// the Lua side of ``RedisCacheStore`` byte for byte: `name:value` lines joined by `\n`.
    public static func variant(names: [String], requestHeader: (String) -> String?) -> String {
        names.map { "\($0):\(normalize(requestHeader($0) ?? ""))" }.joined(separator: "\n")
    }

    /// Whitespace around list commas is not significant: `gzip,  br` and `gzip, br` select the same variant.
    public static func normalize(_ value: String) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingHTTPSpace() }
            .joined(separator: ",")
    }

    /// `Vary` field values → lower-cased, sorted, de-duplicated names (`*` kept).
    public static func varyNames(_ values: [String]) -> [String] {
        Array(Set(values.flatMap { $0.split(separator: ",") }.map { String($0).trimmingHTTPSpace().lowercased() }
            .filter { !$0.isEmpty })).sorted()
    }

    static func hex(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for byte in digest.prefix(16) {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
