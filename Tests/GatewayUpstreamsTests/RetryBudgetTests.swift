import NIOCore
import Testing

@testable import GatewayUpstreams

@Suite struct RetryBudgetTests {
    @Test func ratioOfRequestsWithoutReserve() {
        let clock = ManualClock()
        let budget = RetryBudget(ratio: 0.2, minRetriesPerSecond: 0, now: { clock.now })
        #expect(!budget.allowRetry())
        for _ in 0..<100 { budget.recordRequest() }
        let allowed = (0..<50).filter { _ in budget.allowRetry() }.count
        #expect(allowed == 20)
    }

    @Test func reserveLetsLowTrafficRetry() {
        let clock = ManualClock()
        let budget = RetryBudget(ratio: 0.2, minRetriesPerSecond: 3, now: { clock.now })
        let allowed = (0..<100).filter { _ in budget.allowRetry() }.count
        #expect(allowed == 30)
    }

    @Test func windowSlides() {
        let clock = ManualClock()
        let budget = RetryBudget(ratio: 0.2, minRetriesPerSecond: 0, now: { clock.now })
        for _ in 0..<50 { budget.recordRequest() }
        #expect((0..<20).filter { _ in budget.allowRetry() }.count == 10)
        clock.advance(.seconds(5))
        #expect(!budget.allowRetry())
        for _ in 0..<50 { budget.recordRequest() }
        #expect((0..<20).filter { _ in budget.allowRetry() }.count == 10)
        // The first 50 requests and 10 retries leave the window; 50 requests and 10 retries remain.
        clock.advance(.seconds(6))
        #expect(!budget.allowRetry())
        clock.advance(.seconds(10))
        for _ in 0..<10 { budget.recordRequest() }
        #expect((0..<5).filter { _ in budget.allowRetry() }.count == 2)
    }

    /// Requests counted without the lock (pending) are still seen by the next retry, at the time they arrived:
    /// followed by silence they leave the window on time instead of counting as fresh when a retry flushes them.
    @Test func pendingRequestsCountAtTheirOwnTime() {
        let clock = ManualClock()
        let budget = RetryBudget(ratio: 0.2, minRetriesPerSecond: 0, now: { clock.now })
        for _ in 0..<100 { budget.recordRequest() }
        clock.advance(.milliseconds(500))
        #expect((0..<50).filter { _ in budget.allowRetry() }.count == 20)

        let silent = RetryBudget(ratio: 0.2, minRetriesPerSecond: 0, now: { clock.now })
        for _ in 0..<100 { silent.recordRequest() }
        clock.advance(.seconds(11))
        #expect(!silent.allowRetry())
    }

    @Test func requestsSpreadOverManyBucketsAreAllCounted() {
        let clock = ManualClock()
        let budget = RetryBudget(ratio: 0.5, minRetriesPerSecond: 0, now: { clock.now })
        for _ in 0..<9 {
            for _ in 0..<10 { budget.recordRequest() }
            clock.advance(.milliseconds(900))
        }
        // 90 requests within the last 8.1 s, all inside the 10 s window: 45 retries.
        #expect((0..<100).filter { _ in budget.allowRetry() }.count == 45)
    }
}
