/// Byte classes of RFC 9110/9112, as small inlinable predicates (the optimiser turns them into compares; no
/// lookup table needs a lazily initialised global on the hot path).
enum HTTP1Bytes {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let htab: UInt8 = 9
    static let colon: UInt8 = 58
    static let comma: UInt8 = 44
    static let semicolon: UInt8 = 59

    /// `tchar` (RFC 9110 §5.6.2): the bytes of a token (method, field name, transfer coding).
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A byte allowed inside a field value: VCHAR, obs-text, SP, HTAB. Not NUL, CR, LF, other controls or DEL.
    @inline(__always)
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte == htab || (byte >= 0x20 && byte != 0x7F)
    }

    /// A byte allowed in a request target: visible ASCII only (RFC 3986 characters and the unwise ones browsers
    /// send); no controls, no space, no DEL, no raw non-ASCII.
    @inline(__always)
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - 48)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - 87)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - 55)
        default: return nil
        }
    }

    /// Whether `bytes[start..<end]` equals `lowercased` ignoring ASCII case. `lowercased` holds only lower-case
    /// letters, digits and `-`, for which `byte | 0x20` is an exact fold (no token byte folds onto them wrongly:
    /// only CR folds onto `-`, and CR never reaches a token).
    @inline(__always)
    static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ lowercased: StaticString
    ) -> Bool {
        let count = lowercased.utf8CodeUnitCount
        guard end - start == count else { return false }
        let expected = lowercased.utf8Start
        for offset in 0..<count where bytes[start + offset] | 0x20 != expected[offset] {
            return false
        }
        return true
    }

    /// Calls `body` with the start and end of each comma-separated element of `bytes[start..<end]`, optional
    /// whitespace trimmed; empty elements (`a, ,b`) are skipped as RFC 9110 §5.6.1 asks of recipients.
    @inline(__always)
    static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void
    ) {
        var index = start
        while index <= end {
            var elementEnd = index
            while elementEnd < end && bytes[elementEnd] != comma { elementEnd += 1 }
            var first = index
            var last = elementEnd
            while first < last && (bytes[first] == sp || bytes[first] == htab) { first += 1 }
            while last > first && (bytes[last - 1] == sp || bytes[last - 1] == htab) { last -= 1 }
            if first < last { body(first, last) }
            index = elementEnd + 1
        }
    }
}
