/// `Range: bytes=...` for one representation of `size` bytes (RFC 9110 §14). One range is served as 206; a list of
/// ranges is answered with the whole representation (200), which the RFC allows, rather than multipart.
enum StaticRange: Equatable {
    /// Serve everything (no Range, a multi-range, or a unit we do not know).
    case whole
    /// Serve `start...end` (inclusive) as 206.
    case partial(start: Int64, end: Int64)
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    static func parse(_ header: String?, size: Int64) -> StaticRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingWhitespace()
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst("bytes=".count)
        if spec.contains(",") { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .unsatisfiable }
        let first = parts[0].trimmingWhitespace(), last = parts[1].trimmingWhitespace()
        if first.isEmpty {
            // Suffix: the last N bytes.
            guard let count = Int64(last), count > 0 else { return .unsatisfiable }
            guard size > 0 else { return .unsatisfiable }
            return .partial(start: max(0, size - count), end: size - 1)
        }
        guard let start = Int64(first), start >= 0, first.allSatisfy(\.isASCIIDigit) else { return .unsatisfiable }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .partial(start: start, end: size - 1) }
        guard let end = Int64(last), last.allSatisfy(\.isASCIIDigit), end >= start else { return .unsatisfiable }
        return .partial(start: start, end: min(end, size - 1))
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
