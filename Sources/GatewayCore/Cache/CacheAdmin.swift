import Foundation
import GatewayPolicies
import NIOCore

/// `POST /cache/purge` (`{"route": "catalog", "prefix": "/api/v1/catalog/"}` or `{"key": "…"}`) and
/// `GET /cache/stats` on the admin listener (SPEC §11).
struct CacheAdmin: AdminExtensions {
    let cache: ResponseCache

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>? {
        switch request.path {
        case "/cache/stats":
            guard request.method == .GET || request.method == .HEAD else {
                return eventLoop.makeSucceededFuture(.problem(.methodNotAllowed, "Use GET /cache/stats."))
            }
            return eventLoop.makeSucceededFuture(.json(statsJSON()))
        case "/cache/purge":
            guard request.method == .POST else {
                return eventLoop.makeSucceededFuture(.problem(.methodNotAllowed, "Use POST /cache/purge."))
            }
            switch CachePurgeRequest.parse(request.body) {
            case .failure(let problem):
                return eventLoop.makeSucceededFuture(.problem(.badRequest, problem.message))
            case .success(let purge):
                let message: CachePurgeMessage
                switch purge {
                case .key(let text): message = .digest(CacheKey(text: text).digest)
                case .prefix(let route, let prefix): message = .prefix(route: route, path: prefix)
                }
                return cache.purge(message, on: eventLoop).map { count in
                    .json("{\"status\":\"purged\",\"purged\":\(count)}")
                }.recover { error in
                    .problem(.serviceUnavailable, "The cache store is unreachable; the memory tier was purged: \(error).")
                }
            }
        default:
            return nil
        }
    }

    func statsJSON() -> String {
        let totals = cache.metrics.totals
        let memory = cache.memory.stats
        let results = CacheMetrics.Result.allCases.map { "\(JSONText.quote($0.rawValue.lowercased())):\(totals.results[$0] ?? 0)" }
            .joined(separator: ",")
        let store = cache.shared.map { $0.isAvailable ? "\"redis\"" : "\"redis_unreachable\"" } ?? "\"memory\""
        return "{\"store\":\(store),\"requests\":{\(results)},\"coalesced\":\(totals.coalesced),"
            + "\"stored\":\(totals.stored),\"store_errors\":\(totals.storeErrors),"
            + "\"memory\":{\"entries\":\(memory.entries),\"bytes\":\(memory.bytes),\"capacity\":\(cache.memory.capacity)},"
            + "\"max_object_bytes\":\(cache.settings.maxObjectBytes)}"
    }
}

/// The body of `POST /cache/purge`, validated.
enum CachePurgeRequest: Equatable {
    case key(String)
    case prefix(route: String, prefix: String)

    struct Problem: Error, Equatable {
        let message: String
    }

    static func parse(_ body: ByteBuffer) -> Result<CachePurgeRequest, Problem> {
        let usage = "Send {\"route\": \"NAME\", \"prefix\": \"/path/\"} or {\"key\": \"CACHE KEY\"}."
        guard body.readableBytes > 0, let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return .failure(Problem(message: "The body must be a JSON object. " + usage)) }
        let unknown = Set(object.keys).subtracting(["route", "prefix", "key"])
        if !unknown.isEmpty {
            return .failure(Problem(message: "Unknown member(s) \(unknown.sorted().joined(separator: ", ")). " + usage))
        }
        if let key = object["key"] {
            guard object["route"] == nil, object["prefix"] == nil else {
                return .failure(Problem(message: "Give either `key` or `route` with `prefix`, not both. " + usage))
            }
            guard let text = key as? String, !text.isEmpty else {
                return .failure(Problem(message: "`key` must be a non-empty string. " + usage))
            }
            return .success(.key(text))
        }
        guard let route = object["route"] as? String, !route.isEmpty else {
            return .failure(Problem(message: "`route` must be a route name. " + usage))
        }
        let prefix = object["prefix"] ?? "/"
        guard let text = prefix as? String, text.hasPrefix("/") else {
            return .failure(Problem(message: "`prefix` must be a path starting with '/'. " + usage))
        }
        return .success(.prefix(route: route, prefix: text))
    }
}
