/// A strict, allocation-light JSON (RFC 8259) validator over raw bytes. Pub/sub never interprets `data`: it only
/// checks that it is one JSON value and copies its exact bytes, so numbers, key order and escapes reach subscribers
/// untouched. Strings that the gateway itself needs (`type`, `channel`) are decoded with `readString()`.
struct JSONScanner {
    struct Failure: Error, Equatable {
        var offset: Int
    }

    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// Nesting deeper than this is rejected (keeps the recursive descent's stack bounded).
    static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var atEnd: Bool { index >= bytes.count }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard peek == byte else { throw Failure(offset: index) }
        index += 1
    }

    /// Skips one value (after whitespace) and returns its byte range.
    mutating func skipValue(depth: Int = 0) throws(Failure) -> Range<Int> {
        skipWhitespace()
        guard depth < Self.maxDepth, let first = peek else { throw Failure(offset: index) }
        let start = index
        switch first {
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return start..<index
            }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw Failure(offset: index) }
                try skipString()
                try expect(UInt8(ascii: ":"))
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek else { throw Failure(offset: index) }
                index += 1
                if next == UInt8(ascii: "}") { return start..<index }
                guard next == UInt8(ascii: ",") else { throw Failure(offset: index - 1) }
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return start..<index
            }
            while true {
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek else { throw Failure(offset: index) }
                index += 1
                if next == UInt8(ascii: "]") { return start..<index }
                guard next == UInt8(ascii: ",") else { throw Failure(offset: index - 1) }
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            try literal("true")
        case UInt8(ascii: "f"):
            try literal("false")
        case UInt8(ascii: "n"):
            try literal("null")
        default:
            try skipNumber()
        }
        return start..<index
    }

    /// Reads a string value (after whitespace), decoding escapes.
    mutating func readString() throws(Failure) -> String {
        skipWhitespace()
        let start = index
        try skipString()
        let body = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)])
        if !body.contains(UInt8(ascii: "\\")) {
            return String(decoding: body, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var i = body.startIndex
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        while i < body.endIndex {
            let byte = body[i]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            flush()
            let escape = body[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "u"):
                var code = Self.hex4(body, at: i)
                i += 4
                if (0xD800..<0xDC00).contains(code), i + 6 <= body.endIndex, body[i] == UInt8(ascii: "\\"),
                    body[i + 1] == UInt8(ascii: "u")
                {
                    let low = Self.hex4(body, at: i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(escape))
            }
        }
        flush()
        return String(scalars)
    }

    private static func hex4(_ body: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 { value = value << 4 | UInt32(hexValue(body[i + k]) ?? 0) }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private mutating func skipString() throws(Failure) {
        guard peek == UInt8(ascii: "\"") else { throw Failure(offset: index) }
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { throw Failure(offset: index) }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 5 < bytes.count else { throw Failure(offset: index) }
                    for k in 2...5 where Self.hexValue(bytes[index + k]) == nil { throw Failure(offset: index + k) }
                    index += 6
                default:
                    throw Failure(offset: index)
                }
            case 0..<0x20:
                throw Failure(offset: index)
            default:
                index += 1
            }
        }
        throw Failure(offset: index)
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Failure(offset: index) }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw Failure(offset: index) }
        index += count
    }

    private mutating func skipNumber() throws(Failure) {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, Self.isDigit(first) else { throw Failure(offset: start) }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek, Self.isDigit(digit) else { throw Failure(offset: index) }
            skipDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek, Self.isDigit(digit) else { throw Failure(offset: index) }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while let byte = peek, Self.isDigit(byte) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
