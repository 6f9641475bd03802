import CoreMetrics
import GatewayUpstreams
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The admin endpoints of SPEC §6.
struct GatewayAdmin: AdminAPI {
    let reloader: Reloader
    let registry: UpstreamRegistry
    let prometheus: PrometheusCollectorRegistry
    /// `details`: extra members of the answer as (name, JSON value), e.g. `("nodes", "6")` for a Cluster.
    let readiness: @Sendable () -> (ready: Bool, store: String, details: [(String, String)])
    let extensions: (any AdminExtensions)?
    /// `GET /events`; nil in tests that build the admin API alone.
    var feed: EventsFeed? = nil

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse> {
        switch (request.method, request.path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            return eventLoop.makeSucceededFuture(.json("{\"status\":\"ok\"}"))
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            let (ready, store, details) = readiness()
            let extra = details.map { ",\(JSONText.quote($0.0)):\($0.1)" }.joined()
            let body = "{\"status\":\(JSONText.quote(ready ? "ready" : "not_ready")),\"store\":\(JSONText.quote(store))\(extra)}"
            return eventLoop.makeSucceededFuture(.json(body, status: ready ? .ok : .serviceUnavailable))
        case (.GET, "/metrics"):
            registry.forEachReplica { upstream, replica, state in
                Gauge(label: "gateway_upstream_healthy", dimensions: [("upstream", upstream), ("replica", replica.url)])
                    .record(state == .healthy ? 1 : 0)
            }
            return eventLoop.makeSucceededFuture(
                AdminResponse(
                    contentType: "text/plain; version=0.0.4; charset=utf-8", body: prometheus.emitToString()))
        case (.GET, "/upstreams"):
            return eventLoop.makeSucceededFuture(.json(registry.snapshotJSON()))
        case (.POST, "/reload"):
            // Reading and parsing the files is blocking work: it runs on the thread pool, never on this loop.
            let reloader = self.reloader
            return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                switch reloader.reload(trigger: "admin") {
                case .applied(let version, let routes):
                    return AdminResponse.json("{\"status\":\"reloaded\",\"version\":\(version),\"routes\":\(routes)}")
                case .rejected(let errors):
                    let list = errors.map(JSONText.quote).joined(separator: ",")
                    return AdminResponse.json(
                        "{\"status\":\"rejected\",\"errors\":[\(list)]}", status: .unprocessableEntity)
                }
            }
        case (.GET, "/"), (.HEAD, "/"):
            return eventLoop.makeSucceededFuture(DashboardPage.response)
        case (.HEAD, "/events"):
            return eventLoop.makeSucceededFuture(AdminResponse(contentType: "text/event-stream; charset=utf-8", body: ""))
        case (.GET, "/events"):
            guard let feed else { return eventLoop.makeSucceededFuture(.problem(.notFound, "No event feed.")) }
            var response = AdminResponse(contentType: "text/event-stream; charset=utf-8", body: "")
            response.eventStream = feed
            return eventLoop.makeSucceededFuture(response)
        default:
            if let response = DrainEndpoint.handle(request, registry: registry) {
                return eventLoop.makeSucceededFuture(response)
            }
            if let extensions, let future = extensions.handle(request, on: eventLoop) { return future }
            return eventLoop.makeSucceededFuture(.problem(.notFound, "No admin endpoint \(request.method) \(request.path)."))
        }
    }
}

/// Admin endpoints contributed by the shared-state features (`DELETE /sessions`, `POST /publish/…`).
protocol AdminExtensions: Sendable {
    /// nil when the request is not one of this extension's endpoints.
    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>?
}
