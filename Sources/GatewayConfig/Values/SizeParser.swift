/// Byte sizes as written in the config: `512`, `16KiB`, `10MiB`, `1GiB`.
///
/// Also accepted: decimal SI units `KB`/`kB`, `MB`, `GB` (powers of 1000), nginx-style single
/// letters `k`/`K`, `m`/`M`, `g`/`G` (powers of 1024, as nginx reads them), a `B` suffix, and a
/// decimal number with a unit (`1.5MiB`, rounded down to whole bytes).
public enum SizeParser {
    static let units: [String: Int] = [
        "": 1, "B": 1,
        "KiB": 1 << 10, "k": 1 << 10, "K": 1 << 10, "KB": 1_000, "kB": 1_000,
        "MiB": 1 << 20, "m": 1 << 20, "M": 1 << 20, "MB": 1_000_000,
        "GiB": 1 << 30, "g": 1 << 30, "G": 1 << 30, "GB": 1_000_000_000,
    ]

    public static func parse(_ text: String) throws(ValueParseError) -> Int {
        let trimmed = text.trimmingSpaces()
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unitText = String(trimmed.dropFirst(number.count)).trimmingSpaces()
        guard !number.isEmpty else {
            throw ValueParseError("'\(text)' is not a size (e.g. 512, 16KiB, 10MiB)")
        }
        guard let multiplier = units[unitText] else {
            throw ValueParseError("unknown size unit '\(unitText)' in '\(text)' (use KiB, MiB or GiB)")
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts[0].count <= 15, !parts[0].isEmpty,
            parts.count == 1 || (!parts[1].isEmpty && multiplier > 1)
        else { throw ValueParseError("'\(text)' is not a size (e.g. 512, 16KiB, 10MiB)") }
        guard let whole = Int(parts[0]) else { throw ValueParseError("'\(text)' is not a size") }
        let (product, overflow) = whole.multipliedReportingOverflow(by: multiplier)
        guard !overflow, product <= 1 << 50 else { throw ValueParseError("'\(text)' is too large") }
        var bytes = product
        if parts.count == 2, let fraction = Double("0." + parts[1]) {
            bytes += Int(fraction * Double(multiplier))
        }
        return bytes
    }

    /// `16KiB`, `10MiB`, or plain bytes when not a whole multiple.
    public static func format(_ bytes: Int) -> String {
        for (suffix, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(suffix)"
        }
        return "\(bytes)"
    }
}
