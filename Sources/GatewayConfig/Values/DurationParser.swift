/// Durations as written in the config: a number followed by a unit, `250ms`, `2s`, `1m`, `1h`.
///
/// Also accepted (documented in conf/README): decimals (`1.5s`), compound values in decreasing
/// units without spaces (`1h30m`, `1m30s`) and the unit `us`. A bare number without a unit is an
/// error: `timeout: 2` is ambiguous (seconds? milliseconds?).
public enum DurationParser {
    static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000), ("us", 1_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    public static func parse(_ text: String) throws(ValueParseError) -> Duration {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw ValueParseError("empty duration") }
        var rest = Substring(trimmed)
        var total: Int64 = 0
        var lastUnit: Int64 = .max
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty else { throw ValueParseError("'\(text)' is not a duration") }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unitText.count)
            guard !unitText.isEmpty else {
                throw ValueParseError("'\(text)' needs a unit (ms, s, m or h), e.g. '\(number)s'")
            }
            guard let unit = units.first(where: { $0.suffix == unitText }) else {
                throw ValueParseError("unknown duration unit '\(unitText)' in '\(text)' (use ms, s, m or h)")
            }
            guard unit.nanoseconds < lastUnit else {
                throw ValueParseError("'\(text)': write compound durations in decreasing units, e.g. 1h30m")
            }
            lastUnit = unit.nanoseconds
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty || parts.count == 2, parts[0].count <= 12,
                parts.count == 1 || (!parts[1].isEmpty && parts[1].count <= 9)
            else { throw ValueParseError("'\(text)' is not a duration") }
            let whole = Int64(parts[0]) ?? 0
            var amount = whole * unit.nanoseconds
            if parts.count == 2, let fraction = Double("0." + parts[1]) {
                amount += Int64((fraction * Double(unit.nanoseconds)).rounded())
            }
            let (sum, overflow) = total.addingReportingOverflow(amount)
            guard !overflow, sum < 100 * 365 * 24 * 3_600_000_000_000 else {
                throw ValueParseError("'\(text)' is too long")
            }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Shortest exact spelling: `250ms`, `2s`, `1m30s`, `12h`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var nanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanos == 0 { return "0s" }
        var out = ""
        for (suffix, size) in [("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000),
                               ("ms", 1_000_000), ("us", 1_000), ("ns", 1)] where nanos >= size {
            out += "\(nanos / size)\(suffix)"
            nanos %= size
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice = slice.dropFirst() }
        while slice.last?.isWhitespace == true { slice = slice.dropLast() }
        return String(slice)
    }
}
