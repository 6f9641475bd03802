import NIOCore
import NIOHTTP1

/// An error the gateway answers itself, as `application/problem+json` (RFC 9457).
public struct ProblemResponse: Sendable {
    public var status: HTTPResponseStatus
    public var detail: String
    /// Extra response headers (`Retry-After`, `Allow`, rate-limit fields…).
    public var headers: [(String, String)]
    /// Close the client connection after answering (unread body, broken framing, timeouts).
    public var closeConnection: Bool
    /// A body other than the problem document: a forward-auth refusal relayed as it came, or nothing at all
    /// (a CORS preflight's 204). `detail` still goes to the access log.
    public var customBody: CustomBody? = nil

    public struct CustomBody: Sendable {
        /// nil = no `Content-Type` field.
        public var contentType: String?
        public var bytes: [UInt8]

        public init(contentType: String?, bytes: [UInt8]) {
            self.contentType = contentType
            self.bytes = bytes
        }
    }

    public init(
        _ status: HTTPResponseStatus,
        detail: String,
        headers: [(String, String)] = [],
        closeConnection: Bool = false
    ) {
        self.status = status
        self.detail = detail
        self.headers = headers
        self.closeConnection = closeConnection
    }

    public var title: String { status.reasonPhrase }

    public func body(requestID: String) -> String {
        "{\"type\":\"about:blank\",\"title\":\(JSONText.quote(title)),\"status\":\(status.code)," +
            "\"detail\":\(JSONText.quote(detail)),\"request_id\":\(JSONText.quote(requestID))}"
    }

    /// Head and body ready to write through an HTTP pipeline.
    public func render(requestID: String, allocator: ByteBufferAllocator) -> (HTTPResponseHead, ByteBuffer) {
        var fields = HTTPHeaders()
        let body: ByteBuffer
        if let customBody {
            body = allocator.buffer(bytes: customBody.bytes)
            if let type = customBody.contentType { fields.add(name: "Content-Type", value: type) }
            // RFC 9110 §8.6: no Content-Length on 1xx/204.
            if status != .noContent { fields.add(name: "Content-Length", value: String(body.readableBytes)) }
        } else {
            body = allocator.buffer(string: self.body(requestID: requestID))
            fields.add(name: "Content-Type", value: "application/problem+json")
            fields.add(name: "Content-Length", value: String(body.readableBytes))
        }
        fields.add(name: "X-Request-Id", value: requestID)
        for (name, value) in headers { fields.add(name: name, value: value) }
        if closeConnection { fields.add(name: "Connection", value: "close") }
        return (HTTPResponseHead(version: .http1_1, status: status, headers: fields), body)
    }

    /// The whole response as raw HTTP/1.1 bytes, for handlers that sit below the HTTP codec (408 on slow heads).
    public func encoded(requestID: String) -> String {
        let body = self.body(requestID: requestID)
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        text += "Content-Type: application/problem+json\r\nContent-Length: \(body.utf8.count)\r\n"
        text += "X-Request-Id: \(requestID)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if closeConnection { text += "Connection: close\r\n" }
        return text + "\r\n" + body
    }
}

/// Minimal JSON text helpers for the few documents the hot path writes by hand.
public enum JSONText {
    public static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
