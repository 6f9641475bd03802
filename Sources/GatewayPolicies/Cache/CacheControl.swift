/// The `Cache-Control` directives a shared cache acts on (RFC 9111 §5.2), parsed leniently: unknown directives are
/// ignored, a malformed delta-seconds makes the lifetime 0 (§4.2.1: "treat as stale"), a duplicate keeps the
/// most restrictive value, and quoted values may hold commas.
///
/// ```swift
/// let cc = CacheControl(["public, max-age=60, stale-while-revalidate=30"])
/// cc.maxAge // 60
/// ```
public struct CacheControl: Sendable, Equatable {
    public var noStore = false
    public var noCache = false
    public var isPrivate = false
    public var isPublic = false
    public var mustRevalidate = false
    public var proxyRevalidate = false
    public var maxAge: Int? = nil
    public var sMaxAge: Int? = nil
    public var staleWhileRevalidate: Int? = nil
    public var staleIfError: Int? = nil
    public var onlyIfCached = false

    public init() {}

    /// Parses every `Cache-Control` field line of a message (they are one comma-separated list).
    public init(_ fieldValues: [String]) {
        self.init()
        for value in fieldValues {
            for (name, argument) in Self.directives(value) { apply(name, argument) }
        }
    }

    private mutating func apply(_ name: String, _ argument: String?) {
        switch name {
        case "no-store": noStore = true
        // `no-cache="Set-Cookie"` (a field list) is treated as plain no-cache: stricter, and always correct.
        case "no-cache": noCache = true
        case "private": isPrivate = true
        case "public": isPublic = true
        case "must-revalidate": mustRevalidate = true
        case "proxy-revalidate": proxyRevalidate = true
        case "only-if-cached": onlyIfCached = true
        case "max-age": maxAge = Self.merge(maxAge, Self.seconds(argument))
        case "s-maxage": sMaxAge = Self.merge(sMaxAge, Self.seconds(argument))
        case "stale-while-revalidate": staleWhileRevalidate = Self.merge(staleWhileRevalidate, Self.seconds(argument))
        case "stale-if-error": staleIfError = Self.merge(staleIfError, Self.seconds(argument))
        default: break
        }
    }

    /// Duplicates keep the smaller (more conservative) value.
    private static func merge(_ old: Int?, _ new: Int) -> Int { old.map { min($0, new) } ?? new }

    /// delta-seconds (RFC 9111 §1.2.2): digits only; anything else is 0. Huge values saturate at 2^31.
    static func seconds(_ argument: String?) -> Int {
        guard let argument, !argument.isEmpty, argument.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return 0 }
        if argument.utf8.count > 10 { return 2_147_483_648 }
        return min(Int(argument) ?? 0, 2_147_483_648)
    }

    /// Splits `a, b=1, c="x, y"` into lower-cased names and unquoted arguments. Never fails.
    static func directives(_ value: String) -> [(String, String?)] {
        var result: [(String, String?)] = []
        var bytes = Array(value.utf8)[...]
        while !bytes.isEmpty {
            // name
            while let first = bytes.first, first == 0x20 || first == 0x09 || first == 0x2C { bytes = bytes.dropFirst() }
            guard !bytes.isEmpty else { break }
            var name: [UInt8] = []
            while let byte = bytes.first, byte != 0x3D, byte != 0x2C {
                name.append(byte)
                bytes = bytes.dropFirst()
            }
            var argument: String? = nil
            if bytes.first == 0x3D {
                bytes = bytes.dropFirst()
                var text: [UInt8] = []
                if bytes.first == 0x22 {
                    bytes = bytes.dropFirst()
                    while let byte = bytes.first, byte != 0x22 {
                        if byte == 0x5C { bytes = bytes.dropFirst() }  // quoted-pair
                        if let next = bytes.first { text.append(next) }
                        bytes = bytes.dropFirst()
                    }
                    bytes = bytes.dropFirst()
                    while let byte = bytes.first, byte != 0x2C { bytes = bytes.dropFirst(); _ = byte }
                } else {
                    while let byte = bytes.first, byte != 0x2C {
                        text.append(byte)
                        bytes = bytes.dropFirst()
                    }
                }
                argument = String(decoding: text, as: UTF8.self).trimmingHTTPSpace()
            }
            let trimmed = String(decoding: name, as: UTF8.self).trimmingHTTPSpace().lowercased()
            if !trimmed.isEmpty { result.append((trimmed, argument)) }
        }
        return result
    }
}

extension String {
    /// Drops leading and trailing spaces and tabs (HTTP OWS).
    func trimmingHTTPSpace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
