/// Five minutes of one route, one entry per second, plus the last ten seconds' histograms for the current
/// percentiles. A pure value: `LiveStats` appends to it once per second under its lock.
struct RouteSeries: Sendable {
    static let seconds = 300
    static let recentSeconds = 10

    struct Second: Sendable, Equatable {
        var classes: [Int]
        var p50: Double?
        var p99: Double?
        var requests: Int { classes.reduce(0, +) }
    }

    /// Oldest first once full; `next` is where the following second goes.
    private var ring: [Second] = []
    private var next = 0
    private var recent: [[Int]] = []
    private var recentNext = 0
    /// Requests by status class since the gateway started (for totals).
    private(set) var totals = [Int](repeating: 0, count: 5)

    mutating func append(_ sample: SecondSample) {
        let second = Second(
            classes: sample.classes,
            p50: LatencyBuckets.percentile(0.5, of: sample.latency),
            p99: LatencyBuckets.percentile(0.99, of: sample.latency))
        if ring.count < Self.seconds {
            ring.append(second)
        } else {
            ring[next] = second
        }
        next = (next + 1) % Self.seconds
        if recent.count < Self.recentSeconds {
            recent.append(sample.latency)
        } else {
            recent[recentNext] = sample.latency
        }
        recentNext = (recentNext + 1) % Self.recentSeconds
        for index in 0..<5 { totals[index] += sample.classes[index] }
    }

    /// Up to 300 seconds, oldest first.
    var history: [Second] {
        ring.count < Self.seconds ? ring : Array(ring[next...] + ring[..<next])
    }

    /// p50 and p99 (ms) over the last ten seconds; nil without requests.
    var recentPercentiles: (p50: Double?, p99: Double?) {
        var merged = [Int](repeating: 0, count: LatencyBuckets.count)
        for histogram in recent {
            for index in histogram.indices { merged[index] += histogram[index] }
        }
        return (LatencyBuckets.percentile(0.5, of: merged), LatencyBuckets.percentile(0.99, of: merged))
    }
}
