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

    /// Checks issued in one event-loop tick share one script call, and each request inside it stays atomic:
    /// requests refused by the tight limit charge nothing to the loose one, even within the batch.
    @Test func oneTicksChecksShareOneScriptCall() async throws {
        let server = try RedisTestServer.start()
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await server.makeClient(group: group)
        let limiter = RedisRateLimiter(client: client)
        let prefix = RedisTestServer.uniquePrefix()
        let tight = RateLimitSettings(name: "tight", key: .clientIP, limit: 3, window: .seconds(60))
        let loose = RateLimitSettings(name: "loose", key: .route, limit: 100, window: .seconds(60))
        let both = [
            RateLimitRequest(limit: tight, key: prefix + "tight"), RateLimitRequest(limit: loose, key: prefix + "loose"),
        ]
        let looseOnly = [RateLimitRequest(limit: loose, key: prefix + "loose")]
        let loop = group.next()

        let futures = try await loop.submit {
            (0..<20).map { index in limiter.check(index % 2 == 0 ? both : looseOnly, on: loop) }
        }.get()
        var decisions: [RateLimitDecision] = []
        for future in futures { decisions.append(try await future.get()) }
        #expect(try await loop.submit { limiter.batch(for: loop).scriptCalls }.get() == 1)

        let pairs = stride(from: 0, to: 20, by: 2).map { decisions[$0] }
        #expect(pairs.map { $0.isAllowed } == [true, true, true] + Array(repeating: false, count: 7))
        #expect(pairs.prefix(3).map { $0.results[0].remaining } == [2, 1, 0])
        let singles = stride(from: 1, to: 20, by: 2).map { decisions[$0] }
        #expect(singles.allSatisfy { $0.isAllowed })
        // In arrival order the loose key saw: pair, single, pair, single, pair, single, then 7 × (refused, single).
        #expect(singles.map { $0.results[0].remaining } == [98, 96, 94, 93, 92, 91, 90, 89, 88, 87])
        let after = try await limiter.check(looseOnly, on: loop).get()
        #expect(after.results[0].remaining == 86)  // 3 pairs + 10 singles + this one

        await client.shutdown()
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
