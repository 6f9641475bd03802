/// `?subscribe=a,b` on a pub/sub handshake (SPEC §5): the channels to subscribe at connect time.
enum PubSubQuery {
    static func channels(_ query: String?) -> [String] {
        guard let query else { return [] }
        var out: [String] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, AdminHandler.percentDecode(String(parts[0])) == "subscribe" else { continue }
            for name in parts[1].split(separator: ",") {
                let channel = AdminHandler.percentDecode(String(name))
                if !channel.isEmpty, !out.contains(channel) { out.append(channel) }
            }
        }
        return out
    }
}
