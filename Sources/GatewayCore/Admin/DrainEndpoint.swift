import GatewayUpstreams
import NIOHTTP1

/// `POST /upstreams/NAME/replicas/N/drain` and `…/undrain` (SPEC §12). N is the replica's 0-based place in the
/// `replicas` list of `GET /upstreams`. A drained replica finishes its in-flight requests, gets no new ones and
/// shows `draining`; undrain puts it back (in the state its health checks say).
enum DrainEndpoint {
    static func handle(_ request: AdminRequest, registry: UpstreamRegistry) -> AdminResponse? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false)
        // "", "upstreams", NAME, "replicas", N, ACTION
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "upstreams", parts[3] == "replicas",
            parts[5] == "drain" || parts[5] == "undrain"
        else { return nil }
        guard request.method == .POST else {
            var response = AdminResponse.problem(.methodNotAllowed, "Use POST to \(parts[5]) a replica.")
            response.headers.append(("Allow", "POST"))
            return response
        }
        let upstream = AdminHandler.percentDecode(String(parts[2]))
        guard let position = Int(parts[4]), position >= 0 else {
            return .problem(.badRequest, "The replica number must be a non-negative integer, got '\(parts[4])'.")
        }
        let drain = parts[5] == "drain"
        switch registry.setDrained(upstream: upstream, position: position, drain) {
        case .changed(let state):
            let replica = registry.snapshot().upstreams.first { $0.name == upstream }?.replicas[safe: position]
            return .json(
                "{\"upstream\":\(JSONText.quote(upstream)),\"replica\":\(position),"
                    + "\"url\":\(JSONText.quote(replica?.url ?? "")),\"state\":\(JSONText.quote(state.rawValue)),"
                    + "\"in_flight\":\(replica?.inFlight ?? 0)}")
        case .noSuchUpstream:
            return .problem(.notFound, "No upstream named '\(upstream)'.")
        case .noSuchReplica:
            return .problem(.notFound, "Upstream '\(upstream)' has no replica number \(position) (numbers start at 0).")
        case .removedByReload:
            return .problem(
                .conflict, "Replica \(position) of '\(upstream)' was removed by a reload and is only finishing requests.")
        }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
