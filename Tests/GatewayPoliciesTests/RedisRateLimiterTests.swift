import GatewayConfig
import GatewayRedis
import NIOCore
import NIOPosix
import Testing

@testable import GatewayPolicies

@Suite(.serialized) struct RedisRateLimiterTests {
    let perIP = RateLimitSettings(name: "per-ip", key: .clientIP, limit: 100, window: .seconds(60))

    @Test func concurrentChecksFromTwoClientsAdmitExactlyTheLimit() async throws {
        let server = try RedisTestServer.start()
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clientA = try await server.makeClient(group: group)
        let clientB = try await server.makeClient(group: group)
        let limiters = [RedisRateLimiter(client: clientA), RedisRateLimiter(client: clientB)]
        let key = RedisTestServer.uniquePrefix() + "rl:api:per-ip:ip=1.2.3.4"
        let request = [RateLimitRequest(limit: perIP, key: key)]

        var futures: [EventLoopFuture<RateLimitDecision>] = []
        for index in 0..<300 {
            futures.append(limiters[index % 2].check(request, on: group.next()))
        }
        var admitted = 0
        var denied = 0
        for future in futures {
            let decision = try await future.get()
            if decision.isAllowed { admitted += 1 } else { denied += 1 }
            if !decision.isAllowed {
                #expect(decision.retryAfterSeconds ?? 0 >= 1)
                #expect(decision.mostRestrictive?.remaining == 0)
            }
        }
        #expect(admitted == 100)
        #expect(denied == 200)

        // The key expires on its own.
        let ttl = try await clientA.send(["PTTL", key], on: group.next()).get()
        #expect((ttl.int ?? -1) > 0 && (ttl.int ?? 0) <= 60_001)

        await clientA.shutdown()
        await clientB.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func multiLimitAtomicityAndRefill() async throws {
        let server = try RedisTestServer.start()
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await server.makeClient(group: group)
        let limiter = RedisRateLimiter(client: client)
        let prefix = RedisTestServer.uniquePrefix()
        let tight = RateLimitSettings(name: "tight", key: .clientIP, limit: 2, window: .seconds(1))
        let loose = RateLimitSettings(name: "loose", key: .route, limit: 10, window: .seconds(60))
        let both = [
            RateLimitRequest(limit: tight, key: prefix + "tight"), RateLimitRequest(limit: loose, key: prefix + "loose"),
        ]
        let loop = group.next()
        let first = try await limiter.check(both, on: loop).get()
        #expect(first.isAllowed)
        #expect(first.results.map(\.remaining) == [1, 9])
        #expect(first.mostRestrictive?.limit.name == "tight")
        #expect(try await limiter.check(both, on: loop).get().isAllowed)
        for _ in 0..<3 {
            let denied = try await limiter.check(both, on: loop).get()
            #expect(denied.outcome == .denied)
            #expect(denied.mostRestrictive?.limit.name == "tight")
        }
        let onlyLoose = try await limiter.check([both[1]], on: loop).get()
        #expect(onlyLoose.mostRestrictive?.remaining == 7)  // charged 3 times, never by denied requests

        try await Task.sleep(for: .milliseconds(600))  // T = 500 ms
        #expect(try await limiter.check(both, on: loop).get().isAllowed)

        await client.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func storeDownPolicies() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Nothing listens there: the client never connects and fails fast.
        let configuration = try RedisConfiguration(url: "unix:///nonexistent/gw-policies.sock")
        let client = RedisClient(configuration: configuration, group: group, logger: .init(label: "down"))
        client.start()
        let loop = group.next()
        let request = [RateLimitRequest(limit: RateLimitSettings(name: "l", key: .clientIP, limit: 1, window: .seconds(60)), key: "k")]

        let allow = StoreBackedRateLimiter(client: client, policy: .allow)
        let allowed = try await allow.check(request, on: loop).get()
        #expect(allowed.isAllowed && allowed.degraded && allowed.mostRestrictive == nil)

        let deny = StoreBackedRateLimiter(client: client, policy: .deny)
        let denied = try await deny.check(request, on: loop).get()
        #expect(denied.outcome == .storeUnavailable)
        #expect(denied.retryAfterSeconds == 1)

        let local = StoreBackedRateLimiter(client: client, policy: .local)
        #expect(try await local.check(request, on: loop).get().isAllowed)
        #expect(try await local.check(request, on: loop).get().outcome == .denied)

        // Even when the client claims to be up, a failing call falls back.
        let failing = StoreBackedRateLimiter(primary: RedisRateLimiter(client: client), isStoreAvailable: { true }, policy: .deny)
        #expect(try await failing.check(request, on: loop).get().outcome == .storeUnavailable)

        await client.shutdown()
        try await group.shutdownGracefully()
    }
}
