/// Maps a request path to a path relative to a static root, refusing every way out of the root that can be seen in
/// the text: `..` segments (also percent-encoded, `%2e%2e`), encoded slashes (`%2f`) and backslashes, NUL bytes and
/// invalid percent-escapes. Symlinks that leave the root are caught later, on the resolved file (`StaticFiles`).
enum StaticPath {
    enum Outcome: Equatable {
        /// Path segments below the root (empty = the root itself); `directory` when the request path ends in `/`.
        case ok(segments: [String], directory: Bool)
        /// Not a path we serve (400): the text tries to leave the root or is malformed.
        case refused(String)
    }

    static func resolve(_ requestPath: String) -> Outcome {
        guard requestPath.hasPrefix("/") else { return .refused("the path must start with '/'") }
        var segments: [String] = []
        let raw = requestPath.split(separator: "/", omittingEmptySubsequences: true)
        for piece in raw {
            guard let decoded = percentDecoded(piece) else { return .refused("invalid percent-encoding") }
            if decoded.contains("/") || decoded.contains("\\") { return .refused("encoded path separators are not allowed") }
            if decoded.utf8.contains(0) { return .refused("NUL bytes are not allowed") }
            if decoded == "." { continue }
            if decoded == ".." { return .refused("'..' segments are not allowed") }
            segments.append(decoded)
        }
        return .ok(segments: segments, directory: requestPath.hasSuffix("/"))
    }

    /// `%XX` decoding of one segment (`+` stays `+`: it is a space only in query strings). Nil for a bad escape or
    /// bytes that are not UTF-8.
    static func percentDecoded<S: StringProtocol>(_ text: S) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Whether the last segment looks like a file name (`app.js`) rather than a client-side route (`/settings`).
    static func hasExtension(_ segments: [String]) -> Bool {
        guard let last = segments.last, let dot = last.lastIndex(of: ".") else { return false }
        return dot != last.startIndex && last.index(after: dot) != last.endIndex
    }
}
