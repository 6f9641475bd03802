import NIOCore
import NIOHTTP1

/// What an endpoint wants sent; ``DemoHTTPHandler`` does the I/O.
indirect enum DemoReply {
    /// A complete response. `body == nil` means no body at all (204, 304); Content-Length is added otherwise.
    case full(HTTPResponseStatus, HTTPHeaders, ByteBuffer?)
    /// Send `reply` after `delay` (a scheduled task on the event loop, never a sleep).
    case delayed(TimeAmount, DemoReply)
    /// `total` pattern bytes (see ``BytePattern``) written `chunk` bytes at a time with backpressure.
    case patternBytes(total: Int, chunk: Int, chunked: Bool, contentType: String)
    /// A chunked response of `count` lines, one every `interval`.
    case lines(count: Int, interval: TimeAmount, contentType: String)
    /// Close the connection without answering (an upstream failure for the gateway's 502 path).
    case reset

    static func json(_ status: HTTPResponseStatus = .ok, _ text: String, headers extra: HTTPHeaders = [:]) -> DemoReply {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(contentsOf: extra)
        return .full(status, headers, ByteBuffer(string: text))
    }

    static func text(_ status: HTTPResponseStatus = .ok, _ text: String) -> DemoReply {
        .full(status, ["content-type": "text/plain; charset=utf-8"], ByteBuffer(string: text))
    }
}
