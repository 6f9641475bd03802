import GatewayConfig
import RawStructuredFieldValues

/// The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers-11, serialised
/// as RFC 9651 structured fields.
///
/// ```
/// RateLimit-Policy: "per-ip";q=100;w=60, "per-user";q=1000;w=3600
/// RateLimit: "per-ip";r=42;t=17
/// ```
public enum RateLimitHeaders {
    public static let policyName = "RateLimit-Policy"
    public static let rateLimitName = "RateLimit"
    public static let retryAfterName = "Retry-After"

    /// One list member per limit, in config order. Empty string when `limits` is empty.
    public static func policyField(_ limits: [RateLimitSettings]) -> String {
        let members: [ItemOrInnerList] = limits.map { limit in
            var parameters = OrderedMap<String, RFC9651BareItem>()
            parameters["q"] = .integer(Int64(limit.limit))
            parameters["w"] = .integer(max(Int64(limit.window.components.seconds), 1))
            return .item(Item(bareItem: .string(sanitized(limit.name)), parameters: parameters))
        }
        return serializeList(members)
    }

    /// The most restrictive limit's state: `"name";r=REMAINING;t=RESET`.
    ///
    /// Written directly rather than through the structured-field serializer: it is built for every
    /// request of a limited route, and its shape (one sf-string item, two non-negative integer
    /// parameters) is fixed. Tests compare it with the serializer's output.
    public static func rateLimitField(_ result: RateLimitResult) -> String {
        var field = quotedString(result.limit.name)
        field += ";r="
        field += String(max(result.remaining, 0))
        field += ";t="
        field += String(max(result.resetSeconds, 0))
        return field
    }

    /// The header fields to add to a response of a rate-limited route (`Retry-After` included when refused).
    /// `policy` is the route's ``policyField(_:)``, computed once per route (it depends on configuration only).
    public static func fields(policy: String, decision: RateLimitDecision) -> [(String, String)] {
        var fields: [(String, String)] = []
        if !policy.isEmpty { fields.append((policyName, policy)) }
        if let restrictive = decision.mostRestrictive { fields.append((rateLimitName, rateLimitField(restrictive))) }
        if let retry = decision.retryAfterSeconds { fields.append((retryAfterName, String(retry))) }
        return fields
    }

    private static func serializeList(_ members: [ItemOrInnerList]) -> String {
        guard !members.isEmpty else { return "" }
        var serializer = StructuredFieldValueSerializer()
        guard let bytes = try? serializer.writeListFieldValue(members) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An RFC 9651 sf-string: `"` + the sanitized name with `\\` and `"` escaped + `"`.
    static func quotedString(_ name: String) -> String {
        // Config names are plain printable ASCII: skip the scalar-by-scalar rebuild for them.
        if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + name + "\""
        }
        var quoted = "\""
        for scalar in sanitized(name).unicodeScalars {
            if scalar == "\\" || scalar == "\"" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        quoted += "\""
        return quoted
    }

    /// Structured-field strings allow printable ASCII only; config names are validated, but never fail here.
    private static func sanitized(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }))
    }
}
