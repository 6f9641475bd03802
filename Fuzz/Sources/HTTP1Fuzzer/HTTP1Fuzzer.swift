import GatewayHTTP
import NIOCore

/// libFuzzer entry point. Every input goes through the request-head parser, the response-head parser and the
/// chunked decoder, and three properties are checked beyond "no crash":
/// 1. incremental = one-shot: the input fed in two pieces (split where its first byte says) gives the same result;
/// 2. a parsed request head rewritten by `HTTP1HeadWriter` parses again, to the same method and target;
/// 3. the chunked decoder never returns more data than it was given, fed whole or byte by byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: start, count: count)
    let split = count > 0 ? Int(bytes[0]) % (count + 1) : 0
    checkRequest(bytes, split: split)
    checkResponse(bytes, split: split)
    checkChunked(bytes)
    return 0
}

func describe(_ result: HTTP1RequestHeadParser.Result) -> String {
    switch result {
    case .needMore: return "needMore"
    case .error: return "error"  // which refusal may depend on how much had arrived
    case .head(let head): return "head \(head.methodString) \(head.target) \(head.headerPairs.map { "\($0.name)=\($0.value)" })"
    }
}

func checkRequest(_ bytes: UnsafeBufferPointer<UInt8>, split: Int) {
    let limits = HTTP1HeadLimits(maxHeaderBytes: 4096, maxURIBytes: 1024, maxFields: 64)
    var whole = ByteBuffer(bytes: bytes)
    var oneShot = HTTP1RequestHeadParser(limits: limits)
    let first = oneShot.parse(&whole)

    var pieces = HTTP1RequestHeadParser(limits: limits)
    var buffer = ByteBuffer(bytes: bytes[0..<split])
    var second = pieces.parse(&buffer)
    if case .needMore = second {
        buffer.writeBytes(bytes[split...])
        second = pieces.parse(&buffer)
    }
    // Accepting or refusing must not depend on how the bytes arrived (which refusal may: a size limit can trip on
    // an incomplete head before a syntax error later in it is seen).
    precondition(describe(first) == describe(second), "incremental \(describe(second)) != one-shot \(describe(first))")

    if case .head(let head) = first {
        var out = ByteBuffer()
        HTTP1HeadWriter.writeUpstreamRequest(
            head, .init(clientAddress: "192.0.2.1", requestID: "fuzz"), into: &out)
        var again = HTTP1RequestHeadParser(limits: HTTP1HeadLimits(maxHeaderBytes: 1 << 20, maxURIBytes: 1 << 20))
        guard case .head(let reparsed) = again.parse(&out) else {
            preconditionFailure("the upstream head does not parse: \(String(buffer: out).debugDescription)")
        }
        precondition(reparsed.methodString == head.methodString && reparsed.target == head.target)
    }
}

func checkResponse(_ bytes: UnsafeBufferPointer<UInt8>, split: Int) {
    var whole = ByteBuffer(bytes: bytes)
    var oneShot = HTTP1ResponseHeadParser(maxHeaderBytes: 4096)
    let first = oneShot.parse(&whole, requestMethod: .get)
    var pieces = HTTP1ResponseHeadParser(maxHeaderBytes: 4096)
    var buffer = ByteBuffer(bytes: bytes[0..<split])
    var second = pieces.parse(&buffer, requestMethod: .get)
    if case .needMore = second {
        buffer.writeBytes(bytes[split...])
        second = pieces.parse(&buffer, requestMethod: .get)
    }
    switch (first, second) {
    case (.needMore, .needMore), (.error, .error): break
    case (.head(let a), .head(let b)):
        precondition(a.status == b.status && a.framing == b.framing && a.fields == b.fields)
    default:
        // The size limit on an incomplete head may trip on the whole input and not on a piece, never the reverse.
        if case .error(let error) = first, error.kind == .headerFieldsTooLarge { break }
        preconditionFailure("response: incremental and one-shot disagree")
    }
}

func checkChunked(_ bytes: UnsafeBufferPointer<UInt8>) {
    func run(step: Int) -> (data: Int, outcome: String) {
        var decoder = HTTP1ChunkedDecoder(maxExtensionBytes: 64, maxTrailerBytes: 256)
        var buffer = ByteBuffer()
        var offset = 0
        var data = 0
        while true {
            switch decoder.next(&buffer) {
            case .data(let slice): data += slice.readableBytes
            case .end: return (data, "end")
            case .error(let error): return (data, "error \(error.kind)")
            case .needMore:
                guard offset < bytes.count else { return (data, "needMore") }
                let end = min(bytes.count, offset + step)
                buffer.writeBytes(bytes[offset..<end])
                offset = end
            }
        }
    }
    let whole = run(step: Int.max)
    let byteByByte = run(step: 1)
    precondition(whole.data <= bytes.count)
    precondition(whole.outcome == byteByByte.outcome && whole.data == byteByByte.data, "chunked: \(whole) vs \(byteByByte)")
}

// SwiftPM links an executable with `main` defined as `<module>_main`; libFuzzer brings its own driver, so that entry
// point hands over to it (LLVMFuzzerRunDriver parses the libFuzzer flags and runs `fuzz`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("HTTP1Fuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
