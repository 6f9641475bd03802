/// Conditional requests for static files (RFC 9110 §13): `If-None-Match` (weak comparison, `*`) takes precedence over
/// `If-Modified-Since`; a match means 304 for GET/HEAD. `If-Range` decides whether a `Range` applies.
enum StaticConditions {
    /// Whether the client's copy is current (→ 304).
    static func notModified(ifNoneMatch: String?, ifModifiedSince: String?, etag: String, modified: Int) -> Bool {
        if let ifNoneMatch {
            return etagListMatches(ifNoneMatch, etag: etag)
        }
        if let ifModifiedSince, let since = HTTPDate.parse(ifModifiedSince) {
            return modified <= since
        }
        return false
    }

    /// `If-Range`: the range applies only when the validator still matches (strong comparison for an ETag, exact
    /// date for a date).
    static func rangeApplies(ifRange: String?, etag: String, lastModified: String) -> Bool {
        guard let ifRange = ifRange?.trimmingWhitespace() else { return true }
        if ifRange.hasPrefix("\"") || ifRange.hasPrefix("W/") { return ifRange == etag }
        return ifRange == lastModified
    }

    /// `"a", W/"b"` or `*` against our (strong) `etag`, weak comparison.
    static func etagListMatches(_ list: String, etag: String) -> Bool {
        let ours = opaque(etag)
        for candidate in list.split(separator: ",") {
            let tag = candidate.trimmingWhitespace()
            if tag == "*" || opaque(tag) == ours { return true }
        }
        return false
    }

    private static func opaque(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }
}
