import NIOHTTP1

/// A fully received request, as the endpoints see it. The body itself is not kept (it is hashed as it
/// streams in), except for the small bodies `/login` needs.
struct DemoRequest {
    var head: HTTPRequestHead
    var target: RequestTarget
    var bodyLength: Int
    /// Lower-case hex SHA-256 of the whole body.
    var bodySHA256: String
    /// The body text, only for endpoints that read it (`/login`), at most ``DemoHTTPHandler/maxKeptBody`` bytes.
    var bodyText: String?
    /// 1 for the first request on its connection, 2 for the next…: tests see whether a proxy reuses connections.
    var connectionRequests = 1
    /// The peer as `ip:port` (for a proxy: its own outgoing socket).
    var remote = ""

    init(head: HTTPRequestHead, bodyLength: Int = 0, bodySHA256: String = DemoRequest.emptySHA256, bodyText: String? = nil) {
        self.head = head
        self.target = RequestTarget(head.uri)
        self.bodyLength = bodyLength
        self.bodySHA256 = bodySHA256
        self.bodyText = bodyText
    }

    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Whether the endpoint for this request head needs the body text.
    static func needsBodyText(_ head: HTTPRequestHead) -> Bool {
        head.method == .POST && RequestTarget(head.uri).path == "/login"
    }
}
