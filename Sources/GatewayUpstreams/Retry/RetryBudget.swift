import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Limits retries to a share of the traffic so that a failing upstream is not hit with a retry storm
/// (Linkerd's and Finagle's retry budget): over a sliding window (10 one-second buckets by default) a retry
/// is allowed while `retries < ratio × requests + minRetriesPerSecond × window`. The reserve lets low traffic
/// still retry; the ratio caps the extra load at 20% under high traffic.
///
/// `recordRequest()` once per client request (not per attempt); `allowRetry()` before every extra attempt —
/// an allowed retry is counted at once.
///
/// `recordRequest()` is on every proxied request's path, so it takes no lock: it adds to an atomic count of pending
/// requests, which moves into the window (under the lock) at most once per bucket width, or when a retry asks. A
/// request is therefore attributed to a bucket at most one bucket width late, which the 10-bucket window absorbs.
public final class RetryBudget: Sendable {
    private let ratio: Double
    private let reserve: Double
    private let now: @Sendable () -> NIODeadline
    private let state: NIOLockedValueBox<RetryWindow>
    private let pendingRequests = Atomic<Int>(0)
    /// `uptimeNanoseconds` after which the next `recordRequest()` moves the pending count into the window.
    private let nextFlush = Atomic<UInt64>(0)
    /// `uptimeNanoseconds` of the latest `recordRequest()`: the time pending requests are counted at.
    private let lastRequestAt = Atomic<UInt64>(0)
    private let bucketWidth: Int64

    public init(
        ratio: Double = 0.2,
        minRetriesPerSecond: Int = 3,
        window: TimeAmount = .seconds(10),
        buckets: Int = 10,
        now: @escaping @Sendable () -> NIODeadline = { .now() }
    ) {
        self.ratio = ratio
        self.reserve = Double(minRetriesPerSecond) * window.seconds
        self.now = now
        let bucketCount = max(1, buckets)
        self.bucketWidth = max(1, window.nanoseconds / Int64(bucketCount))
        self.state = NIOLockedValueBox(
            RetryWindow(bucketWidth: max(1, window.nanoseconds / Int64(bucketCount)), bucketCount: bucketCount)
        )
    }

    public func recordRequest() {
        let now = self.now()
        lastRequestAt.store(now.uptimeNanoseconds, ordering: .relaxed)
        pendingRequests.add(1, ordering: .relaxed)
        guard now.uptimeNanoseconds >= nextFlush.load(ordering: .relaxed) else { return }
        nextFlush.store(now.uptimeNanoseconds &+ UInt64(bucketWidth), ordering: .relaxed)
        state.withLockedValue { flushPending(into: &$0) }
    }

    /// Whether one more retry fits the budget; if so it is counted.
    public func allowRetry() -> Bool {
        let now = self.now()
        return state.withLockedValue { window in
            flushPending(into: &window)
            let (requests, retries) = window.totals(now: now)
            guard Double(retries) < ratio * Double(requests) + reserve else { return false }
            window.add(requests: 0, retries: 1, now: now)
            return true
        }
    }
}

extension RetryBudget {
    /// Moves the pending requests into the window, at the time of the latest one: they all arrived within one bucket
    /// width before it (a `recordRequest()` past `nextFlush` flushes), so none is counted more than a bucket late, and
    /// requests followed by silence age out of the window on time.
    private func flushPending(into window: inout RetryWindow) {
        let pending = pendingRequests.exchange(0, ordering: .relaxed)
        guard pending > 0 else { return }
        let at = NIODeadline.uptimeNanoseconds(lastRequestAt.load(ordering: .relaxed))
        window.add(requests: pending, retries: 0, now: at)
    }
}

/// Ring of per-bucket counters; a bucket is reset when its slot is reused for a newer epoch.
struct RetryWindow: Sendable {
    struct Bucket: Sendable {
        var epoch: Int64 = -1
        var requests = 0
        var retries = 0
    }

    let bucketWidth: Int64
    private var buckets: [Bucket]

    init(bucketWidth: Int64, bucketCount: Int) {
        self.bucketWidth = bucketWidth
        self.buckets = Array(repeating: Bucket(), count: bucketCount)
    }

    private func epoch(_ now: NIODeadline) -> Int64 { Int64(now.uptimeNanoseconds) / bucketWidth }

    mutating func add(requests: Int, retries: Int, now: NIODeadline) {
        let epoch = epoch(now)
        let slot = Int(epoch % Int64(buckets.count))
        // Late requests whose slot already holds a newer bucket fell out of the window: nothing to count.
        if buckets[slot].epoch > epoch { return }
        if buckets[slot].epoch != epoch { buckets[slot] = Bucket(epoch: epoch) }
        buckets[slot].requests += requests
        buckets[slot].retries += retries
    }

    func totals(now: NIODeadline) -> (requests: Int, retries: Int) {
        let current = epoch(now)
        var requests = 0
        var retries = 0
        for bucket in buckets where bucket.epoch > current - Int64(buckets.count) && bucket.epoch <= current {
            requests += bucket.requests
            retries += bucket.retries
        }
        return (requests, retries)
    }
}
