/// A consistent-hashing ring with virtual nodes (`ip_hash`). Each replica owns `virtualNodesPerWeight ×
/// weight` points placed by hashing `"URL#n"`; a key belongs to the first point at or after its hash.
/// Removing one of N replicas therefore moves only the keys it owned (about 1/N), and a replica that is out of
/// rotation hands its keys to the next points clockwise without disturbing anybody else's.
struct HashRing: Sendable {
    static let virtualNodesPerWeight = 160

    struct Point: Sendable {
        var hash: UInt64
        /// `Replica.index`.
        var replicaIndex: Int
    }

    private(set) var points: [Point] = []

    init() {}

    init(replicas: [(index: Int, url: String, weight: Int)]) {
        var points: [Point] = []
        points.reserveCapacity(replicas.reduce(0) { $0 + max(1, $1.weight) } * Self.virtualNodesPerWeight)
        for replica in replicas {
            for node in 0..<(max(1, replica.weight) * Self.virtualNodesPerWeight) {
                points.append(Point(hash: StableHash.hash("\(replica.url)#\(node)"), replicaIndex: replica.index))
            }
        }
        points.sort { $0.hash < $1.hash || ($0.hash == $1.hash && $0.replicaIndex < $1.replicaIndex) }
        self.points = points
    }

    /// Walks clockwise from `hash` and returns the first non-nil `accept(replicaIndex)`.
    func lookup<T>(_ hash: UInt64, accept: (Int) -> T?) -> T? {
        guard !points.isEmpty else { return nil }
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].hash < hash { low = mid + 1 } else { high = mid }
        }
        var lastTried = -1
        for step in 0..<points.count {
            let point = points[(low + step) % points.count]
            if point.replicaIndex == lastTried { continue }
            lastTried = point.replicaIndex
            if let result = accept(point.replicaIndex) { return result }
        }
        return nil
    }
}
