import GatewayConfig
import GatewayUpstreams
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Prometheus
import Testing

@testable import GatewayCore

/// `AdminHandler` + `EventsFeed` on an `EmbeddedChannel`: the head of an event stream, one frame per second,
/// nothing once the viewer is gone; and `server.admin_auth` in front of it.
@Suite struct AdminEventsHandlerTests {
    struct StubAPI: AdminAPI {
        let feed: EventsFeed
        func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse> {
            if request.path == "/events" {
                var response = AdminResponse(contentType: "text/event-stream; charset=utf-8", body: "")
                response.eventStream = feed
                return eventLoop.makeSucceededFuture(response)
            }
            return eventLoop.makeSucceededFuture(.json("{\"ok\":true}"))
        }
    }

    func makeFeed(on loop: EmbeddedEventLoop) -> EventsFeed {
        var settings = UpstreamSettings(name: "app")
        settings.replicas = [ReplicaSettings(url: "http://127.0.0.1:1", host: "127.0.0.1", port: 1, weight: 1)]
        var route = RouteSettings(name: "api")
        route.upstream = "app"
        route.match.pathPrefix = "/api/"
        let configuration = GatewayConfiguration(upstreams: [settings], routes: [route])
        let snapshot = DashboardSnapshot(
            sources: .init(
                registry: UpstreamRegistry(configuration: configuration),
                snapshots: SnapshotHolder(GatewaySnapshot(configuration: configuration, version: 7)),
                prometheus: PrometheusCollectorRegistry(),
                readiness: { (true, "memory") },
                live: LiveStats()))
        return EventsFeed(snapshot: snapshot, eventLoop: loop)
    }

    func request(_ channel: EmbeddedChannel, _ uri: String, headers: [(String, String)] = []) throws {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    func outbound(_ channel: EmbeddedChannel) throws -> [HTTPServerResponsePart] {
        var parts: [HTTPServerResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
        return parts
    }

    func bodies(_ parts: [HTTPServerResponsePart]) -> [String] {
        parts.compactMap { part in
            if case .body(.byteBuffer(let buffer)) = part { return String(buffer: buffer) }
            return nil
        }
    }

    @Test func eventsStreamOneFramePerSecondUntilTheViewerLeaves() throws {
        let channel = EmbeddedChannel()
        let feed = makeFeed(on: channel.embeddedEventLoop)
        try channel.pipeline.syncOperations.addHandler(AdminHandler(api: StubAPI(feed: feed)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try request(channel, "/events")
        channel.embeddedEventLoop.run()
        var parts = try outbound(channel)
        guard case .head(let head) = parts.first else {
            Issue.record("no head: \(parts)")
            return
        }
        #expect(head.status == .ok)
        #expect(head.headers["content-type"] == ["text/event-stream; charset=utf-8"])
        #expect(head.headers["content-length"].isEmpty, "a stream has no length")
        #expect(feed.viewerCount == 1)
        var frames = bodies(parts)
        #expect(frames.first == "retry: 2000\n\n")
        #expect(frames.dropFirst().first?.hasPrefix("id: 1\ndata: {\"time\":") == true)
        #expect(frames.dropFirst().first?.contains("\"config\":{\"version\":7") == true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        parts = try outbound(channel)
        frames = bodies(parts)
        #expect(frames.count == 3)
        #expect(frames.last?.hasPrefix("id: 4\n") == true)
        #expect(frames.allSatisfy { $0.hasSuffix("\n\n") })
        // A second request on a streaming connection is ignored (the stream owns it).
        try request(channel, "/other")
        #expect(bodies(try outbound(channel)).isEmpty)
        _ = try? channel.finish()
        channel.embeddedEventLoop.run()
        #expect(feed.viewerCount == 0)
    }

    @Test func tokenAuthGuardsTheStream() throws {
        let channel = EmbeddedChannel()
        let feed = makeFeed(on: channel.embeddedEventLoop)
        let auth = AdminAuthenticator(token: "tok")
        try channel.pipeline.syncOperations.addHandler(AdminHandler(api: StubAPI(feed: feed), authenticator: auth))
        try request(channel, "/events")
        channel.embeddedEventLoop.run()
        var parts = try outbound(channel)
        guard case .head(let denied) = parts.first else {
            Issue.record("no head")
            return
        }
        #expect(denied.status == .unauthorized)
        #expect(denied.headers["www-authenticate"] == ["Bearer realm=\"gateway admin\""])
        #expect(feed.viewerCount == 0)
        try request(channel, "/events", headers: [("Authorization", "Bearer tok")])
        channel.embeddedEventLoop.run()
        parts = try outbound(channel)
        guard case .head(let allowed) = parts.first else {
            Issue.record("no head")
            return
        }
        #expect(allowed.status == .ok)
        #expect(feed.viewerCount == 1)
        _ = try? channel.finish()
    }
}
