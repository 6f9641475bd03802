import NIOCore

/// Limits a request head must stay within.
public struct HTTP1HeadLimits: Sendable, Equatable {
    /// Bytes of the field section (everything after the request line): more → 431.
    public var maxHeaderBytes: Int
    /// Bytes of the request target: more → 414.
    public var maxURIBytes: Int
    /// Number of field lines: more → 431.
    public var maxFields: Int

    public init(maxHeaderBytes: Int = 32 * 1024, maxURIBytes: Int = 8 * 1024, maxFields: Int = 256) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxURIBytes = maxURIBytes
        self.maxFields = maxFields
    }
}

/// An incremental, strict RFC 9112 request-head parser over a `ByteBuffer`.
///
/// Feed it the connection's accumulated bytes; it answers `.needMore` until a whole head is there, then returns the
/// head as a slice of the buffer (the reader index moves past it) and is ready for the next pipelined request. It
/// remembers how far it has scanned, so a head arriving a few bytes at a time is not scanned again from the start.
///
/// Refusals (all final for the connection): bad syntax, bare LF, bare CR, NUL and other controls, obs-fold,
/// whitespace before a colon, Content-Length together with Transfer-Encoding, conflicting or malformed
/// Content-Length, Transfer-Encoding in an HTTP/1.0 request → 400; Transfer-Encoding other than exactly `chunked`
/// → 501; an HTTP/1.1 request without exactly one Host → 400; a target longer than `maxURIBytes` → 414; a field
/// section larger than `maxHeaderBytes` or with too many fields → 431; a version other than 1.0/1.1 → 505.
public struct HTTP1RequestHeadParser: Sendable {
    public enum Result: Sendable {
        case needMore
        case head(HTTP1RequestHead)
        case error(HTTP1ParseError)
    }

    public var limits: HTTP1HeadLimits
    /// Offset (from the head's start) up to which every LF has been checked; the next scan resumes there.
    private var scanned = 0
    /// Offset of the start of the line being scanned, and of the end of the request line (its CR) once seen.
    private var lineStart = 0
    private var requestLineEnd: Int? = nil

    /// Longer methods are refused (400); real ones are a few letters.
    static let maxMethodBytes = 64

    /// At most this many empty lines before a request line are ignored (RFC 9112 §2.2 asks for at least one).
    static let maxLeadingEmptyLines = 4

    public init(limits: HTTP1HeadLimits = HTTP1HeadLimits()) {
        self.limits = limits
    }

    /// Forgets a partially scanned head (e.g. after the connection switched protocols).
    public mutating func reset() {
        scanned = 0
        lineStart = 0
        requestLineEnd = nil
    }

    public mutating func parse(_ buffer: inout ByteBuffer) -> Result {
        let outcome: Scan = buffer.withUnsafeReadableBytes { raw in scan(raw) }
        switch outcome {
        case .needMore:
            return .needMore
        case .failure(let error):
            reset()
            return .error(error)
        case .complete(let skip, let length):
            buffer.moveReaderIndex(forwardBy: skip)
            let bytes = buffer.readSlice(length: length)!
            reset()
            return Self.parseHead(bytes, limits: limits)
        }
    }

    private enum Scan {
        case needMore
        case failure(HTTP1ParseError)
        /// Skip `skip` bytes of leading empty lines, then the head is `length` bytes long.
        case complete(skip: Int, length: Int)
    }

    /// Phase one: find the end of the head, refusing a bare LF as soon as it arrives and enforcing the size limits
    /// on an incomplete head.
    private mutating func scan(_ raw: UnsafeRawBufferPointer) -> Scan {
        var skip = 0
        var emptyLines = 0
        while skip < raw.count && raw[skip] == HTTP1Bytes.cr {
            guard skip + 1 < raw.count else { return .needMore }
            guard raw[skip + 1] == HTTP1Bytes.lf else { return .failure(.bad("Bare CR in the request line.")) }
            emptyLines += 1
            guard emptyLines <= Self.maxLeadingEmptyLines else { return .failure(.bad("Too many empty lines.")) }
            skip += 2
        }
        if skip < raw.count && raw[skip] == HTTP1Bytes.lf { return .failure(.bad("Bare LF in the request.")) }
        let count = raw.count - skip
        var index = scanned
        while index < count {
            guard raw[skip + index] == HTTP1Bytes.lf else {
                index += 1
                continue
            }
            guard index > 0, raw[skip + index - 1] == HTTP1Bytes.cr else {
                return .failure(.bad("Bare LF in the request."))
            }
            if requestLineEnd == nil {
                requestLineEnd = index - 1
            } else if index - 1 == lineStart {
                return .complete(skip: skip, length: index + 1)
            }
            lineStart = index + 1
            index += 1
        }
        scanned = count
        if let requestLineEnd {
            if count - requestLineEnd > limits.maxHeaderBytes + 4 {
                return .failure(HTTP1ParseError(.headerFieldsTooLarge, "The request header fields are too large."))
            }
        } else if count > limits.maxURIBytes + 1024 {
            // The method and version take a few bytes; a request line this long has a target over the limit.
            return .failure(HTTP1ParseError(.uriTooLong, "The request target is too long."))
        }
        return .needMore
    }

    /// Phase two: parse a complete head (`bytes` ends with CRLF CRLF and every LF follows a CR).
    static func parseHead(_ bytes: ByteBuffer, limits: HTTP1HeadLimits) -> Result {
        var fields: [HTTP1Field] = []
        fields.reserveCapacity(16)
        let parsed: Swift.Result<HTTP1RequestHead, HTTP1ParseError> = bytes.withUnsafeReadableBytes { raw in
            // Request line: method SP request-target SP HTTP-version CRLF
            var lineEnd = 0
            while raw[lineEnd] != HTTP1Bytes.cr { lineEnd += 1 }
            var index = 0
            while index < lineEnd && HTTP1Bytes.isTokenChar(raw[index]) { index += 1 }
            guard index > 0, index <= maxMethodBytes, index < lineEnd, raw[index] == HTTP1Bytes.sp else {
                return .failure(.bad("Malformed request line."))
            }
            let methodEnd = index
            let targetStart = index + 1
            index = targetStart
            while index < lineEnd && HTTP1Bytes.isTargetChar(raw[index]) { index += 1 }
            let targetEnd = index
            guard targetEnd > targetStart, index < lineEnd, raw[index] == HTTP1Bytes.sp else {
                if targetEnd - targetStart > limits.maxURIBytes {
                    return .failure(HTTP1ParseError(.uriTooLong, "The request target is too long."))
                }
                return .failure(.bad("Malformed request line."))
            }
            guard targetEnd - targetStart <= limits.maxURIBytes else {
                return .failure(HTTP1ParseError(.uriTooLong, "The request target is too long."))
            }
            let versionStart = index + 1
            guard let parsedVersion = parseVersion(raw, versionStart, lineEnd) else {
                return .failure(.bad("Malformed HTTP version."))
            }
            guard let version = parsedVersion else {
                return .failure(HTTP1ParseError(.versionNotSupported, "Only HTTP/1.0 and HTTP/1.1 are supported."))
            }
            let method = HTTP1Method.classify(raw, 0, methodEnd)
            let form: HTTP1TargetForm
            switch raw[targetStart] {
            case UInt8(ascii: "/"):
                form = .origin
            case UInt8(ascii: "*") where targetEnd - targetStart == 1:
                guard method == .options else { return .failure(.bad("Malformed request target.")) }
                form = .asterisk
            default:
                if method == .connect {
                    form = .authority
                } else if HTTP1Bytes.startsWithScheme(raw, targetStart, targetEnd) {
                    form = .absolute
                } else {
                    return .failure(.bad("Malformed request target."))
                }
            }

            let sectionStart = lineEnd + 2
            let sectionEnd = raw.count - 2
            guard sectionEnd - sectionStart <= limits.maxHeaderBytes + 2 else {
                return .failure(HTTP1ParseError(.headerFieldsTooLarge, "The request header fields are too large."))
            }
            let section: HTTP1FieldSection
            switch HTTP1FieldSection.parse(
                raw, from: sectionStart, to: sectionEnd, maxFields: limits.maxFields, into: &fields)
            {
            case .failure(let error): return .failure(error)
            case .success(let value): section = value
            }

            let framing: HTTP1BodyFraming
            if section.transferEncodingFields > 0 {
                guard section.contentLengthFields == 0 else {
                    return .failure(.bad("Both Content-Length and Transfer-Encoding are present."))
                }
                guard version == .http11 else {
                    return .failure(.bad("Transfer-Encoding is not allowed in an HTTP/1.0 request."))
                }
                guard section.codings == 1 && section.chunkedCodings == 1 else {
                    return .failure(
                        HTTP1ParseError(.notImplemented, "Only the chunked transfer coding is supported."))
                }
                framing = .chunked
            } else if let length = section.contentLength {
                framing = .contentLength(length)
            } else {
                framing = .noBody
            }
            if version == .http11 {
                guard section.hostFields == 1 else {
                    return .failure(.bad(section.hostFields == 0 ? "Missing Host header." : "More than one Host header."))
                }
            } else if section.hostFields > 1 {
                return .failure(.bad("More than one Host header."))
            }
            let keepAlive =
                version == .http11 ? !section.connectionClose : section.connectionKeepAlive && !section.connectionClose
            return .success(
                HTTP1RequestHead(
                    bytes: bytes, method: method, methodRange: 0..<methodEnd, targetRange: targetStart..<targetEnd,
                    targetForm: form, version: version, fields: fields, framing: framing, keepAlive: keepAlive,
                    expectContinue: section.expectContinue, expectOther: section.expectOther,
                    isUpgrade: section.connectionUpgrade && section.upgradeFields > 0, hostField: section.hostField))
        }
        switch parsed {
        case .success(let head): return .head(head)
        case .failure(let error): return .error(error)
        }
    }

    /// `HTTP/1.1` → .http11, `HTTP/1.0` → .http10, another `HTTP/d.d` → .some(nil) (505), anything else → nil (400).
    static func parseVersion(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTP1Version?? {
        guard end - start == 8, HTTP1Bytes.equalsIgnoringCase(raw, start, start + 5, "http/") else { return nil }
        // The name is case-sensitive (RFC 9112 §2.3).
        guard raw[start] == UInt8(ascii: "H"), raw[start + 1] == UInt8(ascii: "T"), raw[start + 2] == UInt8(ascii: "T"),
            raw[start + 3] == UInt8(ascii: "P")
        else { return nil }
        let major = raw[start + 5]
        let dot = raw[start + 6]
        let minor = raw[start + 7]
        guard HTTP1Bytes.isDigit(major), dot == UInt8(ascii: "."), HTTP1Bytes.isDigit(minor) else { return nil }
        if major == UInt8(ascii: "1") && minor == UInt8(ascii: "1") { return .some(.http11) }
        if major == UInt8(ascii: "1") && minor == UInt8(ascii: "0") { return .some(.http10) }
        return .some(nil)
    }
}

extension HTTP1Bytes {
    /// `scheme "://"` at the start of an absolute-form target (scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
    static func startsWithScheme(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var index = start
        guard index < end, (raw[index] | 0x20) >= UInt8(ascii: "a"), (raw[index] | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
        index += 1
        while index < end {
            let byte = raw[index]
            if byte == UInt8(ascii: ":") {
                return index + 2 < end && raw[index + 1] == UInt8(ascii: "/") && raw[index + 2] == UInt8(ascii: "/")
            }
            let lower = byte | 0x20
            guard (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || isDigit(byte) || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            else { return false }
            index += 1
        }
        return false
    }
}
