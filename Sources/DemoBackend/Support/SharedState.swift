import NIOCore
import Synchronization

/// Status `/health` answers with; `POST /admin/health?status=N` changes it (tests simulate a sick replica).
let healthStatus = Atomic<Int>(200)

/// Generated `/json?kb=N` documents, built once per size (benchmarks hit the same sizes over and over).
let jsonDocumentCache = Mutex<[Int: ByteBuffer]>([:])

/// Bytes served by `/bytes`: byte `i` of a response is `"abcdefghijklmnopqrstuvwxyz"[i % 26]`, so a client can
/// check any download without the server keeping state. Chunks are zero-copy slices of this buffer.
enum BytePattern {
    static let alphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz".utf8)
    static let maxChunk = 1 << 20
    static let buffer: ByteBuffer = {
        // Built by doubling a whole number of alphabets (about 16 copies), not byte by byte: a per-byte loop over
        // 1 MiB took over 15 s in a debug build on a loaded machine, stalling the first `/bytes` request.
        let total = maxChunk + alphabet.count
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        buffer.writeBytes(alphabet)
        while buffer.readableBytes < total {
            let copy = buffer.getSlice(at: 0, length: min(buffer.readableBytes, total - buffer.readableBytes))!
            buffer.writeImmutableBuffer(copy)
        }
        return buffer
    }()

    /// The bytes at absolute offsets `offset ..< offset + length` of a response (`length <= maxChunk`).
    static func slice(offset: Int, length: Int) -> ByteBuffer {
        buffer.getSlice(at: offset % alphabet.count, length: length)!
    }
}

/// `/json?kb=N`: a compressible JSON document of about N KiB.
enum JSONDocument {
    static func make(kilobytes: Int) -> ByteBuffer {
        if kilobytes <= 16 * 1024, let cached = jsonDocumentCache.withLock({ $0[kilobytes] }) {
            return cached
        }
        let target = max(0, kilobytes) * 1024
        var text = "{\"items\":["
        var id = 0
        while text.utf8.count < target - 2 || id == 0 {
            if id > 0 { text += "," }
            text +=
                "{\"id\":\(id),\"name\":\"item-\(id)\",\"tags\":[\"alpha\",\"beta\",\"gamma\"],"
                + "\"description\":\"The quick brown fox jumps over the lazy dog.\"}"
            id += 1
        }
        text += "]}"
        let buffer = ByteBuffer(string: text)
        if kilobytes <= 16 * 1024 {
            jsonDocumentCache.withLock { $0[kilobytes] = buffer }
        }
        return buffer
    }
}
