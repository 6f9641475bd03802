import NIOCore

/// A parsed request head: its bytes (a slice of what the client sent, not a copy) and offsets into them, plus what
/// the parser learnt about framing and the connection. Strings are only made when a caller asks for one.
public struct HTTP1RequestHead: Sendable {
    /// The head exactly as received, from the method to the final CRLF CRLF.
    public let bytes: ByteBuffer
    public let method: HTTP1Method
    public let methodRange: Range<Int>
    public let targetRange: Range<Int>
    public let targetForm: HTTP1TargetForm
    public let version: HTTP1Version
    public let fields: [HTTP1Field]
    public let framing: HTTP1BodyFraming
    /// Whether the connection may carry another request after this one (version default, `Connection` options).
    public let keepAlive: Bool
    /// `Expect: 100-continue` (case-insensitive).
    public let expectContinue: Bool
    /// An `Expect` other than `100-continue` (a server may answer 417).
    public let expectOther: Bool
    /// `Connection: upgrade` together with an `Upgrade` field.
    public let isUpgrade: Bool
    /// Index in `fields` of the `Host` field (there is at most one).
    public let hostField: Int?

    /// The method as text (`GET`, or an extension method as sent).
    public var methodString: String { string(methodRange) }
    /// The request target as sent (`/a/b?c=d`).
    public var target: String { string(targetRange) }
    /// The `Host` value, if any.
    public var host: String? { hostField.map { value(at: $0) } }

    public func name(at index: Int) -> String { string(fields[index].nameRange) }
    public func value(at index: Int) -> String { string(fields[index].valueRange) }

    /// The first value of a field the parser recognises.
    public func firstValue(_ known: HTTP1KnownField) -> String? {
        for field in fields where field.known == known { return string(field.valueRange) }
        return nil
    }

    /// The first value of the field called `name` (any case).
    public func firstValue(named name: String) -> String? {
        let lower = Array(name.lowercased().utf8)
        for field in fields where field.nameRange.count == lower.count {
            let matches = bytes.withUnsafeReadableBytes { raw in
                var offset = 0
                for index in field.nameRange {
                    let byte = raw[index]
                    let folded = byte >= 65 && byte <= 90 ? byte | 0x20 : byte
                    if folded != lower[offset] { return false }
                    offset += 1
                }
                return true
            }
            if matches { return string(field.valueRange) }
        }
        return nil
    }

    /// Every field as `(name, value)` strings, in order (for tests, logs and the code paths that still want them).
    public var headerPairs: [(name: String, value: String)] {
        fields.map { (string($0.nameRange), string($0.valueRange)) }
    }

    @inline(__always)
    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }
}
