import NIOCore
import NIOHTTP1

/// Maps a received request to a ``DemoReply``. Pure: no I/O, so every endpoint is easy to reason about.
enum DemoEndpoints {
    static func reply(to request: DemoRequest, replica: String) -> DemoReply {
        let target = request.target
        switch target.path {
        case "/health":
            let status = healthStatus.load(ordering: .relaxed)
            return .text(HTTPResponseStatus(statusCode: status), status < 400 ? "ok" : "unhealthy")
        case "/admin/health" where request.head.method == .POST:
            let status = target.intValue("status") ?? 200
            guard (200...599).contains(status) else { return .json(.badRequest, "{\"error\":\"status must be 200-599\"}") }
            healthStatus.store(status, ordering: .relaxed)
            return .json(.ok, "{\"health_status\":\(status)}")
        case "/slow":
            let milliseconds = max(0, target.intValue("ms") ?? 0)
            return .delayed(.milliseconds(Int64(milliseconds)), echo(request, replica: replica))
        case "/bytes":
            let total = max(0, target.intValue("n") ?? 0)
            let chunk = min(BytePattern.maxChunk, max(1, target.intValue("chunk") ?? 16384))
            return .patternBytes(
                total: total,
                chunk: chunk,
                chunked: target.boolValue("chunked"),
                contentType: target.queryValue("type") ?? "application/octet-stream"
            )
        case "/stream":
            return .lines(
                count: max(0, target.intValue("chunks") ?? 5),
                interval: .milliseconds(Int64(max(0, target.intValue("interval_ms") ?? 100))),
                contentType: target.queryValue("type") ?? "text/plain; charset=utf-8"
            )
        case "/json":
            return json(request)
        case "/headers":
            return headers(request, replica: replica)
        case "/reset":
            return .reset
        case "/login" where request.head.method == .POST:
            return login(request, replica: replica)
        case "/logout" where request.head.method == .POST:
            return .json(.ok, "{\"ok\":true}", headers: ["x-gateway-session": "clear"])
        case let path where path.hasPrefix("/status/"):
            return status(String(path.dropFirst("/status/".count)), replica: replica)
        default:
            return echo(request, replica: replica)
        }
    }

    static func echo(_ request: DemoRequest, replica: String) -> DemoReply {
        .json(.ok, EchoBody.make(request, replica: replica))
    }

    /// `/status/N`: that status and a small JSON body (none for 204/304).
    static func status(_ raw: String, replica: String) -> DemoReply {
        guard let code = Int(raw), (200...599).contains(code) else {
            return .json(.badRequest, "{\"error\":\"status must be 200-599\"}")
        }
        let status = HTTPResponseStatus(statusCode: code)
        if code == 204 || code == 304 {
            return .full(status, [:], nil)
        }
        return .json(status, "{\"status\":\(code),\"replica\":\(JSONText.quoted(replica))}")
    }

    /// `/json?kb=N`: compressible JSON with a strong `ETag: "v1"`; `If-None-Match` matching it → 304.
    static func json(_ request: DemoRequest) -> DemoReply {
        let etag = "\"v1\""
        let inm = request.head.headers[canonicalForm: "if-none-match"]
        if inm.contains(where: { $0 == etag || $0 == "W/" + etag || $0 == "*" }) {
            return .full(.notModified, ["etag": etag], nil)
        }
        let body = JSONDocument.make(kilobytes: request.target.intValue("kb") ?? 1)
        return .full(.ok, ["content-type": "application/json", "etag": etag], body)
    }

    /// `/headers?Name=Value...`: each query pair becomes a response header. `_kb=N` replaces the echo body with
    /// an N KiB JSON document (handy for compression tests); `_status=N` sets the status.
    static func headers(_ request: DemoRequest, replica: String) -> DemoReply {
        var headers = HTTPHeaders()
        var status = HTTPResponseStatus.ok
        var body = ByteBuffer(string: EchoBody.make(request, replica: replica))
        var hasContentType = false
        for (name, value) in request.target.queryItems {
            switch name.lowercased() {
            case "_kb":
                body = JSONDocument.make(kilobytes: Int(value) ?? 1)
            case "_status":
                if let code = Int(value), (200...599).contains(code) { status = HTTPResponseStatus(statusCode: code) }
            case "content-length", "transfer-encoding", "connection", "":
                continue
            default:
                if name.lowercased() == "content-type" { hasContentType = true }
                headers.add(name: name, value: value)
            }
        }
        if !hasContentType { headers.add(name: "content-type", value: "application/json") }
        return .full(status, headers, body)
    }

    /// `POST /login` with `{"user":"alice"}` or `user=alice` (optional `role`): answers with
    /// `X-Gateway-Session: {"user":"alice","role":"user"}` for the gateway to turn into a session.
    static func login(_ request: DemoRequest, replica: String) -> DemoReply {
        let text = request.bodyText ?? ""
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        var user: String?
        var role: String?
        if trimmed.hasPrefix("{") {
            user = JSONText.stringField("user", in: text)
            role = JSONText.stringField("role", in: text)
        } else {
            let form = RequestTarget("?" + text)
            user = form.queryValue("user")
            role = form.queryValue("role")
        }
        if user == nil { user = request.target.queryValue("user") }
        guard let user, !user.isEmpty else {
            return .json(.badRequest, "{\"error\":\"missing user\"}")
        }
        let session = "{\"user\":\(JSONText.quoted(user)),\"role\":\(JSONText.quoted(role ?? "user"))}"
        return .json(
            .ok,
            "{\"ok\":true,\"user\":\(JSONText.quoted(user)),\"replica\":\(JSONText.quoted(replica))}",
            headers: ["x-gateway-session": session]
        )
    }
}
