/// The echo document every unmatched request gets:
/// `{"replica", "method", "path", "query", "uri", "headers": [[name, value], ...], "body_length", "body_sha256",
/// "connection_requests", "remote"}`.
enum EchoBody {
    static func make(_ request: DemoRequest, replica: String) -> String {
        var out = "{\"replica\":"
        out += JSONText.quoted(replica)
        out += ",\"method\":" + JSONText.quoted(request.head.method.rawValue)
        out += ",\"path\":" + JSONText.quoted(request.target.path)
        out += ",\"query\":" + JSONText.quoted(request.target.query)
        out += ",\"uri\":" + JSONText.quoted(request.head.uri)
        out += ",\"headers\":["
        var first = true
        for (name, value) in request.head.headers {
            if !first { out += "," }
            first = false
            out += "[" + JSONText.quoted(name) + "," + JSONText.quoted(value) + "]"
        }
        out += "],\"body_length\":\(request.bodyLength),\"body_sha256\":\"\(request.bodySHA256)\""
        out += ",\"connection_requests\":\(request.connectionRequests),\"remote\":" + JSONText.quoted(request.remote) + "}"
        return out
    }
}
