import GatewayConfig
import GatewayUpstreams
import Testing

@testable import GatewayCore

/// Routes hold their upstream, resolved when the snapshot is built (issue 11, item 4).
@Suite struct RouteUpstreamTests {
    func configuration(balance: BalanceStrategy = .roundRobin, retries: Int = 1, keepalive: Int = 64) -> GatewayConfiguration {
        var app = UpstreamSettings(name: "app")
        app.balance = balance
        app.retries = retries
        app.keepalive = keepalive
        app.affinityCookie = "sticky"
        app.replicas = [ReplicaSettings(url: "http://127.0.0.1:9001", host: "127.0.0.1", port: 9001)]
        var api = RouteSettings(name: "api")
        api.match.pathPrefix = "/"
        api.upstream = "app"
        var orphan = RouteSettings(name: "orphan")
        orphan.match.path = "/orphan"
        orphan.upstream = "missing"
        return GatewayConfiguration(upstreams: [app], routes: [api, orphan])
    }

    func route(_ snapshot: GatewaySnapshot, _ path: String) -> CompiledRoute? {
        if case .matched(let route) = snapshot.router.route(method: "GET", path: path, host: nil) { return route }
        return nil
    }

    @Test func compiledRouteHoldsTheRegistrysGroupAndItsSettings() throws {
        let config = configuration(retries: 3, keepalive: 7)
        let registry = UpstreamRegistry(configuration: config)
        let snapshot = GatewaySnapshot(configuration: config, version: 1, registry: registry)
        let upstream = try #require(route(snapshot, "/x")?.upstream)
        #expect(upstream.group === registry.group(named: "app"))
        #expect(upstream.name == "app")
        #expect(upstream.retries == 3)
        #expect(upstream.keepalive == 7)
        #expect(upstream.affinityCookie == nil)
        let pick = try #require(upstream.pickAndStart(clientIP: "10.0.0.1", affinityCookie: nil, excluding: [Int]()))
        #expect(pick.replica.port == 9001)
        #expect(pick.replica.inFlight == 1)
        #expect(upstream.tlsContext(for: pick.replica) == nil)
        pick.replica.requestFinished(.success)
    }

    @Test func affinityCookieOnlyForCookieBalance() throws {
        let config = configuration(balance: .cookie)
        let registry = UpstreamRegistry(configuration: config)
        let snapshot = GatewaySnapshot(configuration: config, version: 1, registry: registry)
        #expect(route(snapshot, "/x")?.upstream?.affinityCookie == "sticky")
    }

    @Test func unknownUpstreamAndNoRegistryLeaveTheRouteWithoutAGroup() {
        let config = configuration()
        let registry = UpstreamRegistry(configuration: config)
        #expect(route(GatewaySnapshot(configuration: config, version: 1, registry: registry), "/orphan")?.upstream == nil)
        #expect(route(GatewaySnapshot(configuration: config, version: 1), "/x")?.upstream == nil)
    }

    @Test func aReloadKeepsTheGroupAndCarriesTheNewSettings() throws {
        let registry = UpstreamRegistry(configuration: configuration(retries: 1))
        let before = GatewaySnapshot(configuration: configuration(retries: 1), version: 1, registry: registry)
        let reloaded = configuration(retries: 4)
        registry.apply(reloaded)
        let after = GatewaySnapshot(configuration: reloaded, version: 2, registry: registry)
        let old = try #require(route(before, "/x")?.upstream)
        let new = try #require(route(after, "/x")?.upstream)
        #expect(old.group === new.group)
        #expect(old.retries == 1)
        #expect(new.retries == 4)
    }

    @Test func connectionCacheFollowsReloads() {
        let config = configuration()
        let holder = SnapshotHolder(GatewaySnapshot(configuration: config, version: 1))
        var cache = SnapshotCache()
        #expect(holder.current(cachedIn: &cache).version == 1)
        #expect(holder.current(cachedIn: &cache).version == 1)
        holder.replace(with: GatewaySnapshot(configuration: config, version: 2))
        #expect(holder.current(cachedIn: &cache).version == 2)
        #expect(cache.snapshot?.version == 2)
    }

    @Test func threadMetricsCacheKeepsHandlesPerRouteObject() {
        let cache = ThreadMetricsCache()
        let first = RouteMetrics(route: "cache-test")
        let a = cache.requestHandles(first, method: "GET", code: 200)
        let b = cache.requestHandles(first, method: "GET", code: 200)
        #expect(a.requests === b.requests)
        // A reload's new metrics object for the same route name: a new entry, never the old object's.
        let second = RouteMetrics(route: "cache-test")
        _ = cache.requestHandles(second, method: "GET", code: 200)
        #expect(cache.requestHandles(first, method: "GET", code: 200).requests === a.requests)
    }
}
