import NIOCore

/// Measures the request line of a head as its bytes arrive, so that a head the HTTP decoder refuses as too large
/// can be told apart: an overlong request line (the URI) is 414 URI Too Long, an overlong header block 431
/// (RFC 9112 §3: "A server that receives a request-target longer than any URI it wishes to parse MUST respond with
/// a 414"). The decoder counts the URI against its header-size limit and does not say which it was.
public struct RequestLineMeter: Sendable {
    /// Bytes of the request line seen so far (up to its LF).
    public private(set) var length = 0
    /// The line's LF has been seen.
    public private(set) var complete = false
    /// Whether bytes are being measured (between the start of a head and its request line's end).
    public private(set) var active = true

    public init() {}

    /// A new head starts with the next byte.
    public mutating func reset() {
        length = 0
        complete = false
        active = true
    }

    /// Stops measuring until the next `reset()` (the head was decoded, or bytes of a body are arriving).
    public mutating func stop() {
        active = false
    }

    public mutating func feed(_ buffer: ByteBuffer) {
        guard active, !complete else { return }
        let newline = buffer.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) }
        if let newline {
            length += newline
            complete = true
        } else {
            length += buffer.readableBytes
        }
    }

    /// Whether the request line is (or, still incomplete, already is) longer than `limit` bytes of URI plus room
    /// for the method and version around it.
    public func exceeds(uriLimit: Int) -> Bool {
        let slack = 32  // "PROPPATCH " + " HTTP/1.1\r" and then some
        return length > uriLimit + slack || (!complete && length > uriLimit)
    }
}
