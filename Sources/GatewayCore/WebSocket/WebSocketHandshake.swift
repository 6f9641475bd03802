import Crypto
import NIOHTTP1

/// RFC 6455 §4 opening-handshake checks, on the client's request and on the upstream's 101.
enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Why the client's upgrade request is not a valid WebSocket handshake, or nil.
    static func requestProblem(_ head: HTTPRequestHead) -> String? {
        guard head.method == .GET else { return "A WebSocket handshake must use GET." }
        guard head.version.major == 1, head.version.minor >= 1 else { return "A WebSocket handshake needs HTTP/1.1." }
        let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard connection.contains("upgrade") else { return "Connection must include upgrade." }
        guard head.headers[canonicalForm: "sec-websocket-version"].first == "13" else {
            return "Sec-WebSocket-Version must be 13."
        }
        guard let key = head.headers.first(name: "sec-websocket-key"), decodedLength(ofBase64: key) == 16 else {
            return "Sec-WebSocket-Key must be 16 bytes in base64."
        }
        return nil
    }

    /// The `Sec-WebSocket-Accept` value that answers `key`.
    static func acceptValue(forKey key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Array((key + guid).utf8))
        return base64(Array(digest))
    }

    private static func decodedLength(ofBase64 text: String) -> Int? {
        let trimmed = text.trimmingCharacters()
        guard trimmed.count % 4 == 0, !trimmed.isEmpty else { return nil }
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        guard trimmed.allSatisfy({ alphabet.contains($0) }) else { return nil }
        let padding = trimmed.reversed().prefix(while: { $0 == "=" }).count
        return trimmed.count / 4 * 3 - padding
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = (UInt32(chunk[0]) << 16) | (chunk.count > 1 ? UInt32(chunk[1]) << 8 : 0)
                | (chunk.count > 2 ? UInt32(chunk[2]) : 0)
            out.append(table[Int((value >> 18) & 63)])
            out.append(table[Int((value >> 12) & 63)])
            out.append(chunk.count > 1 ? table[Int((value >> 6) & 63)] : "=")
            out.append(chunk.count > 2 ? table[Int(value & 63)] : "=")
            index += 3
        }
        return out
    }
}

extension String {
    func trimmingCharacters() -> String { self[...].trimmingCharacters() }
}
