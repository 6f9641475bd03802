import NIOCore

/// The fields of a chunked body's trailer section, as a slice of the received bytes and offsets into it.
public struct HTTP1Trailers: Sendable {
    public let bytes: ByteBuffer
    public let fields: [HTTP1Field]

    public var headerPairs: [(name: String, value: String)] {
        fields.map {
            (
                bytes.getString(at: bytes.readerIndex + $0.nameRange.lowerBound, length: $0.nameRange.count) ?? "",
                bytes.getString(at: bytes.readerIndex + $0.valueRange.lowerBound, length: $0.valueRange.count) ?? ""
            )
        }
    }
}

/// An incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
///
/// Each call consumes what it can from the buffer and returns one event: a data slice (a view into the buffer, not
/// a copy), the end of the body (with its trailers, if any), `.needMore`, or an error. Strict where leniency has
/// been used for smuggling: the size is 1–15 hex digits with nothing but an extension after it, every line ends in
/// CRLF (bare LF or CR → error), the CRLF after the data is required, extensions and trailers are size-limited and
/// hold no control characters.
public struct HTTP1ChunkedDecoder: Sendable {
    public enum Event: Sendable {
        case needMore
        case data(ByteBuffer)
        case end(HTTP1Trailers?)
        case error(HTTP1ParseError)
    }

    private enum State: Sendable {
        case size(value: Int, digits: Int)
        case sizeWhitespace(value: Int)
        case chunkExtension(value: Int, bytes: Int)
        case sizeLF(value: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailers
        case done
    }

    public var maxExtensionBytes: Int
    public var maxTrailerBytes: Int
    public var maxTrailerFields: Int
    private var state = State.size(value: 0, digits: 0)

    public init(maxExtensionBytes: Int = 4096, maxTrailerBytes: Int = 16 * 1024, maxTrailerFields: Int = 64) {
        self.maxExtensionBytes = maxExtensionBytes
        self.maxTrailerBytes = maxTrailerBytes
        self.maxTrailerFields = maxTrailerFields
    }

    /// True once the last chunk and the trailer section have been read.
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    public mutating func next(_ buffer: inout ByteBuffer) -> Event {
        while true {
            switch state {
            case .done:
                return .needMore
            case .data(let remaining):
                guard buffer.readableBytes > 0 else { return .needMore }
                let length = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: length)!
                state = remaining == length ? .dataCR : .data(remaining: remaining - length)
                return .data(slice)
            case .trailers:
                return readTrailers(&buffer)
            default:
                guard let byte = buffer.readInteger(as: UInt8.self) else { return .needMore }
                if let error = step(byte) {
                    state = .done
                    return .error(error)
                }
            }
        }
    }

    /// One framing byte (chunk-size line or the CRLF after the data).
    private mutating func step(_ byte: UInt8) -> HTTP1ParseError? {
        switch state {
        case .size(let value, let digits):
            if let hex = HTTP1Bytes.hexValue(byte) {
                guard digits < 15 else { return .bad("Chunk size is too large.") }
                state = .size(value: value << 4 | hex, digits: digits + 1)
                return nil
            }
            guard digits > 0 else { return .bad("Malformed chunk size.") }
            switch byte {
            case HTTP1Bytes.cr: state = .sizeLF(value: value)
            case HTTP1Bytes.semicolon: state = .chunkExtension(value: value, bytes: 0)
            case HTTP1Bytes.sp, HTTP1Bytes.htab: state = .sizeWhitespace(value: value)
            default: return .bad("Malformed chunk size.")
            }
            return nil
        case .sizeWhitespace(let value):
            // BWS before a chunk extension (RFC 9112 §7.1.1); nothing else may follow the size.
            switch byte {
            case HTTP1Bytes.sp, HTTP1Bytes.htab: return nil
            case HTTP1Bytes.semicolon: state = .chunkExtension(value: value, bytes: 0)
            default: return .bad("Malformed chunk size.")
            }
            return nil
        case .chunkExtension(let value, let count):
            if byte == HTTP1Bytes.cr {
                state = .sizeLF(value: value)
                return nil
            }
            guard byte == HTTP1Bytes.htab || (byte >= 0x20 && byte != 0x7F) else {
                return .bad("Invalid character in a chunk extension.")
            }
            guard count < maxExtensionBytes else { return .bad("Chunk extension is too long.") }
            state = .chunkExtension(value: value, bytes: count + 1)
            return nil
        case .sizeLF(let value):
            guard byte == HTTP1Bytes.lf else { return .bad("Bare CR in a chunk size line.") }
            state = value == 0 ? .trailers : .data(remaining: value)
            return nil
        case .dataCR:
            guard byte == HTTP1Bytes.cr else { return .bad("Chunk data is not followed by CRLF.") }
            state = .dataLF
            return nil
        case .dataLF:
            guard byte == HTTP1Bytes.lf else { return .bad("Chunk data is not followed by CRLF.") }
            state = .size(value: 0, digits: 0)
            return nil
        case .data, .trailers, .done:
            preconditionFailure("not a framing byte state")
        }
    }

    /// The trailer section after the last chunk: either an empty line, or field lines and an empty line.
    private mutating func readTrailers(_ buffer: inout ByteBuffer) -> Event {
        // Only the first maxTrailerBytes + 2 bytes are looked at, so the verdict does not depend on how the bytes
        // arrived (found by the fuzzer: a bare LF past the limit gave 400 in one piece and 431 byte by byte).
        let limit = maxTrailerBytes + 2
        let end: Int? = buffer.withUnsafeReadableBytes { raw -> Int? in
            var lineStart = 0
            var index = 0
            while index < min(raw.count, limit) {
                if raw[index] == HTTP1Bytes.lf {
                    guard index > 0, raw[index - 1] == HTTP1Bytes.cr else { return -1 }
                    if index - 1 == lineStart { return index + 1 }
                    lineStart = index + 1
                }
                index += 1
            }
            return nil
        }
        guard let end else {
            if buffer.readableBytes >= limit {
                state = .done
                return .error(HTTP1ParseError(.headerFieldsTooLarge, "The trailer section is too large."))
            }
            return .needMore
        }
        state = .done
        guard end > 0 else { return .error(.bad("Bare LF in the trailer section.")) }
        let bytes = buffer.readSlice(length: end)!
        if end == 2 { return .end(nil) }
        var fields: [HTTP1Field] = []
        let result = bytes.withUnsafeReadableBytes { raw in
            HTTP1FieldSection.parse(raw, from: 0, to: end - 2, maxFields: maxTrailerFields, into: &fields)
        }
        switch result {
        case .failure(let error): return .error(error)
        case .success: return .end(HTTP1Trailers(bytes: bytes, fields: fields))
        }
    }
}
