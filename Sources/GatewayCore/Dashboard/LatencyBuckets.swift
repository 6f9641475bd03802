import Foundation

/// Log-scale latency buckets for the dashboard's p50/p99: bucket 0 holds everything up to 50 µs, each next bucket
/// is 25 % wider, the last one is open-ended (≈ 61 s and above). A percentile read from them is within 25 %
/// of the true value, which is what a sparkline needs, and recording is one `log` and one atomic add.
enum LatencyBuckets {
    static let count = 64
    static let firstBound = 50_000.0  // nanoseconds
    static let factor = 1.25
    private static let logFactor = log(factor)

    /// Upper bound of bucket `index` in nanoseconds (infinity for the last).
    static func upperBound(_ index: Int) -> Double {
        index >= count - 1 ? .infinity : firstBound * pow(factor, Double(index))
    }

    static func lowerBound(_ index: Int) -> Double {
        index == 0 ? 0 : upperBound(index - 1)
    }

    static func index(nanoseconds: Int64) -> Int {
        let value = Double(nanoseconds)
        if value <= firstBound { return 0 }
        let position = Int((log(value / firstBound) / logFactor).rounded(.up))
        return min(max(position, 0), count - 1)
    }

    /// The `quantile` (0...1) of a histogram in milliseconds, interpolated inside its bucket; nil when empty.
    static func percentile(_ quantile: Double, of histogram: [Int]) -> Double? {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = quantile * Double(total)
        var seen = 0.0
        for (index, count) in histogram.enumerated() where count > 0 {
            let next = seen + Double(count)
            if next >= rank {
                let low = lowerBound(index)
                let high = index >= Self.count - 1 ? low * factor : upperBound(index)
                let fraction = count == 0 ? 0 : max(0, min(1, (rank - seen) / Double(count)))
                return (low + (high - low) * fraction) / 1_000_000
            }
            seen = next
        }
        return upperBound(Self.count - 2) / 1_000_000
    }
}
