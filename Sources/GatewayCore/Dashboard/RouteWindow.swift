import Synchronization

/// The request path's side of the dashboard: what finished on one route during the current second, kept in
/// relaxed atomics so recording takes no lock. `LiveStats` takes (and zeroes) the counts once per second.
final class RouteWindow: Sendable {
    let route: String
    /// `counts[0..<5]`: status classes 1xx…5xx; then one latency bucket per `LatencyBuckets` index.
    private let counts: [AtomicCell]

    init(route: String) {
        self.route = route
        self.counts = (0..<(5 + LatencyBuckets.count)).map { _ in AtomicCell() }
    }

    /// One finished request (any status; 0 = no response was sent, counted as 5xx).
    func record(status: Int, nanoseconds: Int64) {
        let statusClass = (1...5).contains(status / 100) ? status / 100 - 1 : 4
        counts[statusClass].add(1)
        counts[5 + LatencyBuckets.index(nanoseconds: nanoseconds)].add(1)
    }

    /// The counts since the previous call, zeroing them.
    func take() -> SecondSample {
        var sample = SecondSample()
        for index in 0..<5 { sample.classes[index] = counts[index].take() }
        for index in 0..<LatencyBuckets.count { sample.latency[index] = counts[5 + index].take() }
        return sample
    }
}

/// One second of one route: requests by status class and a latency histogram.
struct SecondSample: Sendable, Equatable {
    var classes = [Int](repeating: 0, count: 5)
    var latency = [Int](repeating: 0, count: LatencyBuckets.count)

    var requests: Int { classes.reduce(0, +) }
}

/// An `Int` counter for several threads: relaxed adds on the request path, an exchange when it is read.
final class AtomicCell: Sendable {
    private let value = Atomic<Int>(0)

    func add(_ amount: Int) {
        value.wrappingAdd(amount, ordering: .relaxed)
    }

    func take() -> Int {
        value.exchange(0, ordering: .relaxed)
    }

    func load() -> Int {
        value.load(ordering: .relaxed)
    }
}
