import NIOConcurrencyHelpers
import NIOCore

/// Limits retries to a share of the traffic so that a failing upstream is not hit with a retry storm
/// (Linkerd's and Finagle's retry budget): over a sliding window (10 one-second buckets by default) a retry
/// is allowed while `retries < ratio × requests + minRetriesPerSecond × window`. The reserve lets low traffic
/// still retry; the ratio caps the extra load at 20% under high traffic.
///
/// `recordRequest()` once per client request (not per attempt); `allowRetry()` before every extra attempt —
/// an allowed retry is counted at once.
public final class RetryBudget: Sendable {
    private let ratio: Double
    private let reserve: Double
    private let now: @Sendable () -> NIODeadline
    private let state: NIOLockedValueBox<RetryWindow>

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
        self.state = NIOLockedValueBox(
            RetryWindow(bucketWidth: max(1, window.nanoseconds / Int64(bucketCount)), bucketCount: bucketCount)
        )
    }

    public func recordRequest() {
        let now = self.now()
        state.withLockedValue { $0.add(requests: 1, retries: 0, now: now) }
    }

    /// Whether one more retry fits the budget; if so it is counted.
    public func allowRetry() -> Bool {
        let now = self.now()
        return state.withLockedValue { window in
            let (requests, retries) = window.totals(now: now)
            guard Double(retries) < ratio * Double(requests) + reserve else { return false }
            window.add(requests: 0, retries: 1, now: now)
            return true
        }
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
