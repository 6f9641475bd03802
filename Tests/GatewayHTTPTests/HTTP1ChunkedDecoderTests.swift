import NIOCore
import Testing

@testable import GatewayHTTP

/// Decodes `text` fed in pieces of `step` bytes; returns the body, the trailers, or the error.
func decodeChunked(_ text: String, step: Int = .max) -> (body: String, trailers: [String]?, error: Int?, finished: Bool) {
    var decoder = HTTP1ChunkedDecoder(maxExtensionBytes: 16, maxTrailerBytes: 64)
    let bytes = Array(text.utf8)
    var buffer = ByteBuffer()
    var body = ""
    var trailers: [String]? = nil
    var offset = 0
    while true {
        let event = decoder.next(&buffer)
        switch event {
        case .data(let slice):
            body += String(buffer: slice)
            continue
        case .end(let section):
            trailers = section?.headerPairs.map { "\($0.name)=\($0.value)" } ?? []
            return (body, trailers, nil, decoder.isFinished)
        case .error(let error):
            return (body, trailers, error.status, decoder.isFinished)
        case .needMore:
            guard offset < bytes.count else { return (body, trailers, nil, decoder.isFinished) }
            let end = min(bytes.count, offset + min(step, bytes.count))
            buffer.writeBytes(bytes[offset..<end])
            offset = end
        }
    }
}

@Suite struct HTTP1ChunkedDecoderTests {
    @Test(arguments: [1, 2, 3, 7, Int.max])
    func decodesInAnyPieces(step: Int) {
        let result = decodeChunked("5\r\nhello\r\n1;ext=1\r\n \r\nA ;x\r\n0123456789\r\n0\r\n\r\n", step: step)
        #expect(result.body == "hello 0123456789")
        #expect(result.trailers == [])
        #expect(result.error == nil)
        #expect(result.finished)
    }

    @Test func trailers() {
        let result = decodeChunked("3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B:  two \r\n\r\n", step: 2)
        #expect(result.body == "abc")
        #expect(result.trailers == ["X-Sum=1", "X-B=two"])
    }

    @Test func bytesAfterTheBodyStayInTheBuffer() {
        var decoder = HTTP1ChunkedDecoder()
        var buffer = ByteBuffer(string: "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1")
        guard case .data = decoder.next(&buffer), case .end = decoder.next(&buffer) else {
            Issue.record("expected data then end")
            return
        }
        #expect(String(buffer: buffer) == "GET / HTTP/1.1")
    }

    /// Malformed chunking, including the shapes used for request smuggling (TE.TE, chunk-size tricks, bare LF).
    @Test(arguments: [
        ("x\r\n", 400),  // not hex
        ("\r\n", 400),  // empty size
        ("-1\r\n", 400),
        ("+1\r\na\r\n0\r\n\r\n", 400),
        ("0x1\r\na\r\n0\r\n\r\n", 400),
        ("1000000000000000\r\n", 400),  // 16 hex digits: too large
        ("5\nhello\r\n0\r\n\r\n", 400),  // bare LF after the size
        ("5\rhello\r\n0\r\n\r\n", 400),  // bare CR
        ("5\r\nhelloX\r\n0\r\n\r\n", 400),  // data longer than the size
        ("5\r\nhello\n0\r\n\r\n", 400),  // bare LF after the data
        ("5 5\r\nhello\r\n0\r\n\r\n", 400),  // a space then not an extension
        ("5 \r\nhello\r\n0\r\n\r\n", 400),  // whitespace is only allowed before a `;`
        ("1;a\u{0}\r\nx\r\n0\r\n\r\n", 400),  // NUL in an extension
        ("1;" + String(repeating: "e", count: 17) + "\r\nx\r\n0\r\n\r\n", 400),  // extension too long
        ("0\r\nX: a\nY: b\r\n\r\n", 400),  // bare LF in trailers
        ("0\r\n X: a\r\n\r\n", 400),  // obs-fold in trailers
        ("0\r\nX : a\r\n\r\n", 400),
        ("0\r\nX: " + String(repeating: "a", count: 80), 431),  // trailers too large
        ("0\r\nX: " + String(repeating: "a", count: 80) + "\nY\r\n\r\n", 431),  // fuzzer: same verdict whole or byte by byte
    ])
    func refuses(_ text: String, _ status: Int) {
        #expect(decodeChunked(text).error == status, "\(text.debugDescription)")
        #expect(decodeChunked(text, step: 1).error == status, "\(text.debugDescription) byte by byte")
    }

    @Test func incompleteBodyWaits() {
        let result = decodeChunked("5\r\nhel")
        #expect(result.body == "hel")
        #expect(result.error == nil)
        #expect(!result.finished)
    }
}
