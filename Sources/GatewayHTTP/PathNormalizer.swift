/// Why a request path cannot be normalised (each answers 400).
public enum PathNormalizationError: Error, Equatable, Sendable {
    /// An origin-form path must start with `/`.
    case notAbsolute
    /// `%` not followed by two hex digits.
    case badPercentEncoding
    /// `%00`: a NUL byte is never part of a path we route.
    case encodedNul
    /// A `..` segment would climb above `/`.
    case aboveRoot

    public var detail: String {
        switch self {
        case .notAbsolute: return "The request path must start with '/'."
        case .badPercentEncoding: return "The request path has a malformed percent-escape."
        case .encodedNul: return "The request path contains an encoded NUL byte (%00)."
        case .aboveRoot: return "The request path climbs above the root with '..'."
        }
    }
}

/// Puts a request path into the one form the router and the upstream see, so that a policy on `/admin/` cannot be
/// walked around with `/x/../admin/`, `/%61dmin/` or `//admin/` (nginx does the same before matching locations):
///
/// 1. percent-escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`, RFC 3986 §2.3) are decoded, so `%2e` is `.`
///    and `%61` is `a`; every other escape is kept, with its hex digits upper-cased (`%2f` → `%2F`). An escaped
///    slash therefore never splits a segment. A malformed escape or `%00` is an error;
/// 2. runs of `/` become one `/` when `mergeSlashes` is on (nginx `merge_slashes on`, the default);
/// 3. `.` and `..` segments are removed (RFC 3986 §5.2.4); a `..` with nothing left to remove (the path would climb
///    above `/`) is an error, where RFC 3986 would silently stop at the root. A path ending in a dot segment keeps
///    its trailing slash (`/a/b/..` → `/a/`).
///
/// The query is not part of the input: it is forwarded untouched.
public struct PathNormalizer: Sendable, Equatable {
    public var mergeSlashes: Bool

    public init(mergeSlashes: Bool = true) {
        self.mergeSlashes = mergeSlashes
    }

    /// The normalised path; `path` itself (no copy) when it is already normal.
    public func normalize(_ path: String) throws(PathNormalizationError) -> String {
        var utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { throw .notAbsolute }
        if !needsWork(utf8) { return path }
        let decoded = try Self.decodeUnreserved(Array(utf8))
        let result = try removeDotSegments(decoded)
        utf8 = path.utf8
        if result.elementsEqual(utf8) { return path }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether the path may change: it has an escape, a `//` (when merging) or a segment starting with `.`.
    private func needsWork(_ utf8: String.UTF8View) -> Bool {
        var previous: UInt8 = 0
        for byte in utf8 {
            if byte == UInt8(ascii: "%") { return true }
            if previous == UInt8(ascii: "/") {
                if byte == UInt8(ascii: ".") { return true }
                if byte == UInt8(ascii: "/") && mergeSlashes { return true }
            }
            previous = byte
        }
        return false
    }

    static func decodeUnreserved(_ bytes: [UInt8]) throws(PathNormalizationError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            else { throw .badPercentEncoding }
            let value = high << 4 | low
            if value == 0 { throw .encodedNul }
            if isUnreserved(value) {
                out.append(value)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex(high))
                out.append(upperHex(low))
            }
            index += 3
        }
        return out
    }

    private func removeDotSegments(_ bytes: [UInt8]) throws(PathNormalizationError) -> [UInt8] {
        // bytes[0] is "/": the segments are what follows each slash.
        let segments = bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var kept: [ArraySlice<UInt8>] = []
        kept.reserveCapacity(segments.count)
        for (position, segment) in segments.enumerated() {
            let isLast = position == segments.count - 1
            if segment.isEmpty && mergeSlashes && !isLast { continue }
            if segment.elementsEqual(CollectionOfOne(UInt8(ascii: "."))) {
                if isLast { kept.append([]) }
                continue
            }
            if segment.count == 2 && segment.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                guard !kept.isEmpty else { throw .aboveRoot }
                kept.removeLast()
                if isLast { kept.append([]) }
                continue
            }
            kept.append(segment)
        }
        var out: [UInt8] = [UInt8(ascii: "/")]
        out.reserveCapacity(bytes.count)
        for (position, segment) in kept.enumerated() {
            if position > 0 { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: segment)
        }
        return out
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
