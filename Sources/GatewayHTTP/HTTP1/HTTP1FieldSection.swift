/// The field lines of a head (or of a chunked trailer section), parsed strictly (RFC 9112 §5): a token name
/// directly followed by `:`, optional whitespace, a value of VCHAR / obs-text / SP / HTAB. Refused with 400: obs-fold
/// (a line starting with whitespace), whitespace before the colon, an empty name, NUL / bare CR / other controls.
///
/// While it walks the fields it also gathers what the gateway needs from them (framing, `Connection` options,
/// `Host`, `Expect`), so nothing is looked up again later.
struct HTTP1FieldSection {
    var contentLength: Int? = nil
    var contentLengthFields = 0
    var transferEncodingFields = 0
    /// Number of transfer codings listed over all `Transfer-Encoding` fields, and whether the last one is chunked.
    var codings = 0
    var chunkedCodings = 0
    var lastCodingIsChunked = false
    var hostFields = 0
    var hostField: Int? = nil
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    var upgradeFields = 0
    var expectContinue = false
    var expectOther = false

    /// Parses the lines in `bytes[start..<end]`; `end` is the offset of the CR of the empty line that closes the
    /// section. Every LF in the range is known to follow a CR (the head scanner checked).
    static func parse(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        maxFields: Int,
        into fields: inout [HTTP1Field]
    ) -> Result<HTTP1FieldSection, HTTP1ParseError> {
        var section = HTTP1FieldSection()
        var lineStart = start
        while lineStart < end {
            var lineEnd = lineStart
            while bytes[lineEnd] != HTTP1Bytes.lf { lineEnd += 1 }
            lineEnd -= 1  // the CR
            let first = bytes[lineStart]
            if first == HTTP1Bytes.sp || first == HTTP1Bytes.htab {
                return .failure(.bad("Obsolete line folding is not allowed."))
            }
            var colon = lineStart
            while colon < lineEnd && HTTP1Bytes.isTokenChar(bytes[colon]) { colon += 1 }
            guard colon < lineEnd, bytes[colon] == HTTP1Bytes.colon else {
                return .failure(.bad("Malformed header field."))
            }
            guard colon > lineStart else { return .failure(.bad("Empty header field name.")) }
            var valueStart = colon + 1
            while valueStart < lineEnd && (bytes[valueStart] == HTTP1Bytes.sp || bytes[valueStart] == HTTP1Bytes.htab) {
                valueStart += 1
            }
            var valueEnd = valueStart
            var index = valueStart
            while index < lineEnd {
                let byte = bytes[index]
                guard HTTP1Bytes.isFieldValueChar(byte) else {
                    return .failure(.bad("Invalid character in header field value."))
                }
                index += 1
                if byte != HTTP1Bytes.sp && byte != HTTP1Bytes.htab { valueEnd = index }
            }
            guard fields.count < maxFields else {
                return .failure(HTTP1ParseError(.headerFieldsTooLarge, "Too many header fields."))
            }
            let known = HTTP1KnownField.classify(bytes, lineStart, colon)
            if known != .other {
                if let error = section.note(known, bytes, valueStart, valueEnd, fieldIndex: fields.count) {
                    return .failure(error)
                }
            }
            fields.append(
                HTTP1Field(
                    nameStart: Int32(truncatingIfNeeded: lineStart), nameEnd: Int32(truncatingIfNeeded: colon),
                    valueStart: Int32(truncatingIfNeeded: valueStart), valueEnd: Int32(truncatingIfNeeded: valueEnd),
                    known: known))
            lineStart = lineEnd + 2
        }
        return .success(section)
    }

    private mutating func note(
        _ known: HTTP1KnownField, _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, fieldIndex: Int
    ) -> HTTP1ParseError? {
        switch known {
        case .contentLength:
            // One field holding one decimal number. A repeated length (`5, 5`, or the field twice) is refused even
            // when the values agree, as llhttp and nginx do: it is a classic smuggling probe and no sane client
            // sends it.
            contentLengthFields += 1
            guard contentLengthFields == 1 else { return .bad("More than one Content-Length.") }
            guard start < end else { return .bad("Content-Length is not a number.") }
            var value = 0
            for offset in start..<end {
                let byte = bytes[offset]
                guard HTTP1Bytes.isDigit(byte) else {
                    return .bad(byte == HTTP1Bytes.comma ? "More than one Content-Length." : "Content-Length is not a number.")
                }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int(byte - 48))
                guard !overflow1 && !overflow2 else { return .bad("Content-Length is too large.") }
                value = sum
            }
            contentLength = value
            return nil
        case .transferEncoding:
            transferEncodingFields += 1
            HTTP1Bytes.forEachListElement(bytes, start, end) { first, last in
                // A coding may carry parameters (`gzip;q=1` is not valid here, but `chunked ;x` is not chunked).
                codings += 1
                let chunked = HTTP1Bytes.equalsIgnoringCase(bytes, first, last, "chunked")
                if chunked { chunkedCodings += 1 }
                lastCodingIsChunked = chunked
            }
            return nil
        case .host:
            hostFields += 1
            hostField = fieldIndex
            return nil
        case .connection:
            HTTP1Bytes.forEachListElement(bytes, start, end) { first, last in
                if HTTP1Bytes.equalsIgnoringCase(bytes, first, last, "close") {
                    connectionClose = true
                } else if HTTP1Bytes.equalsIgnoringCase(bytes, first, last, "keep-alive") {
                    connectionKeepAlive = true
                } else if HTTP1Bytes.equalsIgnoringCase(bytes, first, last, "upgrade") {
                    connectionUpgrade = true
                }
            }
            return nil
        case .upgrade:
            upgradeFields += 1
            return nil
        case .expect:
            if HTTP1Bytes.equalsIgnoringCase(bytes, start, end, "100-continue") {
                expectContinue = true
            } else {
                expectOther = true
            }
            return nil
        default:
            return nil
        }
    }
}
