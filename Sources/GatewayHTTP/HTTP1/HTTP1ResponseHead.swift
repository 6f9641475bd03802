import NIOCore

/// A parsed upstream response head: a slice of the bytes received and offsets into them.
public struct HTTP1ResponseHead: Sendable {
    public let bytes: ByteBuffer
    public let version: HTTP1Version
    public let status: Int
    public let reasonRange: Range<Int>
    public let fields: [HTTP1Field]
    /// How the body is delimited, given the request method and the status (RFC 9112 §6.3).
    public let framing: HTTP1BodyFraming
    /// Whether the upstream connection may serve another request after this response's body.
    public let keepAlive: Bool
    /// `Connection: upgrade` with an `Upgrade` field (meaningful on a 101).
    public let isUpgrade: Bool

    /// 1xx other than 101: more heads follow for the same request.
    public var isInformational: Bool { status >= 100 && status < 200 && status != 101 }

    public var reason: String { string(reasonRange) }
    public func name(at index: Int) -> String { string(fields[index].nameRange) }
    public func value(at index: Int) -> String { string(fields[index].valueRange) }

    public func firstValue(_ known: HTTP1KnownField) -> String? {
        for field in fields where field.known == known { return string(field.valueRange) }
        return nil
    }

    public var headerPairs: [(name: String, value: String)] {
        fields.map { (string($0.nameRange), string($0.valueRange)) }
    }

    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }
}

/// An incremental, strict response-head parser for the upstream side.
///
/// An upstream that could poison a pooled connection is refused (the attempt fails with 502 and the connection is
/// closed, never pooled): a bare LF / CR, NUL, obs-fold, Content-Length with Transfer-Encoding, conflicting or
/// malformed Content-Length, a malformed status line, a head over `maxHeaderBytes`. A response whose
/// Transfer-Encoding does not end in `chunked` is read until the upstream closes (RFC 9112 §6.3 item 4), so its
/// connection is not reused either.
public struct HTTP1ResponseHeadParser: Sendable {
    public enum Result: Sendable {
        case needMore
        case head(HTTP1ResponseHead)
        case error(HTTP1ParseError)
    }

    public var maxHeaderBytes: Int
    public var maxFields: Int
    private var scanned = 0
    private var lineStart = 0
    private var sawStatusLine = false

    public init(maxHeaderBytes: Int = 64 * 1024, maxFields: Int = 256) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxFields = maxFields
    }

    public mutating func reset() {
        scanned = 0
        lineStart = 0
        sawStatusLine = false
    }

    /// - Parameter requestMethod: the method of the request this response answers (HEAD responses have no body).
    public mutating func parse(_ buffer: inout ByteBuffer, requestMethod: HTTP1Method) -> Result {
        let end: Int? = buffer.withUnsafeReadableBytes { raw -> Int? in
            var index = scanned
            while index < raw.count {
                guard raw[index] == HTTP1Bytes.lf else {
                    index += 1
                    continue
                }
                guard index > 0, raw[index - 1] == HTTP1Bytes.cr else { return -1 }
                if !sawStatusLine {
                    sawStatusLine = true
                } else if index - 1 == lineStart {
                    return index + 1
                }
                lineStart = index + 1
                index += 1
            }
            scanned = raw.count
            return nil
        }
        guard let end else {
            if buffer.readableBytes > maxHeaderBytes + 1024 {
                reset()
                return .error(HTTP1ParseError(.headerFieldsTooLarge, "The upstream response head is too large."))
            }
            return .needMore
        }
        reset()
        guard end >= 0 else { return .error(.bad("Bare LF in the upstream response.")) }
        let bytes = buffer.readSlice(length: end)!
        return Self.parseHead(bytes, requestMethod: requestMethod, maxHeaderBytes: maxHeaderBytes, maxFields: maxFields)
    }

    static func parseHead(_ bytes: ByteBuffer, requestMethod: HTTP1Method, maxHeaderBytes: Int, maxFields: Int)
        -> Result
    {
        var fields: [HTTP1Field] = []
        fields.reserveCapacity(16)
        let parsed: Swift.Result<HTTP1ResponseHead, HTTP1ParseError> = bytes.withUnsafeReadableBytes { raw in
            // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (the SP may be missing when the
            // reason is empty; many servers send `HTTP/1.1 200\r\n`).
            var lineEnd = 0
            while raw[lineEnd] != HTTP1Bytes.cr { lineEnd += 1 }
            guard lineEnd >= 12, raw[8] == HTTP1Bytes.sp,
                let parsedVersion = HTTP1RequestHeadParser.parseVersion(raw, 0, 8), let version = parsedVersion
            else { return .failure(.bad("Malformed upstream status line.")) }
            guard HTTP1Bytes.isDigit(raw[9]), HTTP1Bytes.isDigit(raw[10]), HTTP1Bytes.isDigit(raw[11]) else {
                return .failure(.bad("Malformed upstream status code."))
            }
            let status = Int(raw[9] - 48) * 100 + Int(raw[10] - 48) * 10 + Int(raw[11] - 48)
            guard status >= 100 else { return .failure(.bad("Malformed upstream status code.")) }
            var reasonStart = 12
            if lineEnd > 12 {
                guard raw[12] == HTTP1Bytes.sp else { return .failure(.bad("Malformed upstream status line.")) }
                reasonStart = 13
                for index in reasonStart..<lineEnd where !HTTP1Bytes.isFieldValueChar(raw[index]) {
                    return .failure(.bad("Invalid character in the upstream reason phrase."))
                }
            }
            let sectionStart = lineEnd + 2
            let sectionEnd = raw.count - 2
            guard sectionEnd - sectionStart <= maxHeaderBytes + 2 else {
                return .failure(HTTP1ParseError(.headerFieldsTooLarge, "The upstream response head is too large."))
            }
            let section: HTTP1FieldSection
            switch HTTP1FieldSection.parse(raw, from: sectionStart, to: sectionEnd, maxFields: maxFields, into: &fields)
            {
            case .failure(let error): return .failure(error)
            case .success(let value): section = value
            }
            if section.transferEncodingFields > 0 && section.contentLengthFields > 0 {
                return .failure(.bad("The upstream response has both Content-Length and Transfer-Encoding."))
            }
            var keepAlive =
                version == .http11 ? !section.connectionClose : section.connectionKeepAlive && !section.connectionClose
            let framing: HTTP1BodyFraming
            if requestMethod == .head || (status >= 100 && status < 200) || status == 204 || status == 304 {
                framing = .noBody
            } else if section.transferEncodingFields > 0 {
                if section.lastCodingIsChunked && version == .http11 {
                    framing = .chunked
                } else {
                    framing = .untilClose
                    keepAlive = false
                }
            } else if let length = section.contentLength {
                framing = .contentLength(length)
            } else {
                framing = .untilClose
                keepAlive = false
            }
            return .success(
                HTTP1ResponseHead(
                    bytes: bytes, version: version, status: status, reasonRange: reasonStart..<lineEnd,
                    fields: fields, framing: framing, keepAlive: keepAlive,
                    isUpgrade: section.connectionUpgrade && section.upgradeFields > 0))
        }
        switch parsed {
        case .success(let head): return .head(head)
        case .failure(let error): return .error(error)
        }
    }
}
