import GatewayConfig
import NIOPosix
import Testing

@testable import GatewayPolicies

@Suite struct LocalRateLimiterTests {
    let perIP = RateLimitSettings(name: "per-ip", key: .clientIP, limit: 100, window: .seconds(60))

    @Test func admitsExactlyLimitThenOnePerInterval() {
        let clock = ManualClock()
        let limiter = LocalRateLimiter(clock: clock.clock)
        let request = [RateLimitRequest(limit: perIP, key: "k")]
        var admitted = 0
        for _ in 0..<300 where limiter.checkNow(request).isAllowed { admitted += 1 }
        #expect(admitted == 100)

        let denied = limiter.checkNow(request)
        #expect(denied.outcome == .denied)
        #expect(denied.retryAfterSeconds == 1)
        #expect(denied.mostRestrictive?.remaining == 0)
        #expect(denied.mostRestrictive?.resetSeconds == 60)

        clock.advance(microseconds: 599_999)
        #expect(!limiter.checkNow(request).isAllowed)
        clock.advance(microseconds: 1)
        #expect(limiter.checkNow(request).isAllowed)
        #expect(!limiter.checkNow(request).isAllowed)
    }

    @Test func refillsCompletelyAfterWindow() {
        let clock = ManualClock()
        let limiter = LocalRateLimiter(clock: clock.clock)
        let request = [RateLimitRequest(limit: perIP, key: "k")]
        for _ in 0..<100 { _ = limiter.checkNow(request) }
        clock.advance(seconds: 30)
        let half = limiter.checkNow(request)
        #expect(half.isAllowed)
        #expect(half.mostRestrictive?.remaining == 49)
        #expect(half.mostRestrictive?.resetSeconds == 31)
        clock.advance(seconds: 60)
        let fresh = limiter.checkNow(request)
        #expect(fresh.mostRestrictive?.remaining == 99)
        #expect(fresh.mostRestrictive?.resetSeconds == 1)
    }

    @Test func smallBurstSpreadsRequests() {
        let clock = ManualClock()
        let limiter = LocalRateLimiter(clock: clock.clock)
        let limit = RateLimitSettings(name: "b", key: .clientIP, limit: 60, window: .seconds(60), burst: 2)
        let request = [RateLimitRequest(limit: limit, key: "b")]
        #expect(limiter.checkNow(request).isAllowed)
        #expect(limiter.checkNow(request).isAllowed)
        let third = limiter.checkNow(request)
        #expect(!third.isAllowed)
        #expect(third.retryAfterSeconds == 1)
        clock.advance(seconds: 1)
        #expect(limiter.checkNow(request).isAllowed)
    }

    @Test func deniedRequestConsumesNoOtherLimit() {
        let clock = ManualClock()
        let limiter = LocalRateLimiter(clock: clock.clock)
        let tight = RateLimitSettings(name: "tight", key: .clientIP, limit: 2, window: .seconds(60))
        let loose = RateLimitSettings(name: "loose", key: .route, limit: 10, window: .seconds(60))
        let both = [RateLimitRequest(limit: tight, key: "t"), RateLimitRequest(limit: loose, key: "l")]
        #expect(limiter.checkNow(both).isAllowed)
        #expect(limiter.checkNow(both).isAllowed)
        for _ in 0..<5 {
            let denied = limiter.checkNow(both)
            #expect(denied.outcome == .denied)
            #expect(denied.mostRestrictive?.limit.name == "tight")
            #expect(denied.results.map(\.allowed) == [false, true])
        }
        // "loose" was charged only twice: 8 left after this request.
        let onlyLoose = limiter.checkNow([RateLimitRequest(limit: loose, key: "l")])
        #expect(onlyLoose.mostRestrictive?.remaining == 7)
    }

    @Test func mostRestrictiveIsSmallestRemainingRatio() {
        let limiter = LocalRateLimiter(clock: ManualClock().clock)
        let small = RateLimitSettings(name: "small", key: .clientIP, limit: 10, window: .seconds(60))
        let large = RateLimitSettings(name: "large", key: .clientIP, limit: 1000, window: .seconds(3600))
        let decision = limiter.checkNow([RateLimitRequest(limit: large, key: "a"), RateLimitRequest(limit: small, key: "b")])
        #expect(decision.mostRestrictive?.limit.name == "small")
        #expect(decision.mostRestrictive?.remaining == 9)
    }

    @Test func sweepsExpiredKeys() {
        let clock = ManualClock()
        let limiter = LocalRateLimiter(clock: clock.clock, sweepInterval: 3)
        _ = limiter.checkNow([RateLimitRequest(limit: perIP, key: "a")])
        _ = limiter.checkNow([RateLimitRequest(limit: perIP, key: "b")])
        #expect(limiter.keyCount == 2)
        clock.advance(seconds: 2)
        _ = limiter.checkNow([RateLimitRequest(limit: perIP, key: "c")])
        #expect(limiter.keyCount == 1)
    }

    @Test func futureAPI() async throws {
        let limiter = LocalRateLimiter()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let decision = try await limiter.check([RateLimitRequest(limit: perIP, key: "x")], on: loop).get()
        #expect(decision.isAllowed)
    }
}
