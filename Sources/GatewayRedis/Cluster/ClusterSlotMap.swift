/// Which node serves each hash slot, as reported by `CLUSTER SLOTS`. Pure value: parsing and lookups only.
public struct ClusterSlotMap: Sendable, Equatable {
    /// A node as `host:port` (the form `MOVED`/`ASK` replies use).
    public typealias Node = String

    public struct Range: Sendable, Equatable {
        public var slots: ClosedRange<Int>
        public var primary: Node
        public var replicas: [Node]
    }

    public private(set) var ranges: [Range]
    /// slot → index into `ranges` (−1 = unassigned); 16384 small integers, rebuilt on every change.
    private var owner: [Int16]

    public init(ranges: [Range] = []) {
        self.ranges = ranges
        self.owner = Array(repeating: -1, count: RedisHashSlot.count)
        rebuildIndex()
    }

    /// The primary serving `slot`, nil when no node claims it.
    public func primary(for slot: Int) -> Node? {
        guard slot >= 0, slot < owner.count else { return nil }
        let index = Int(owner[slot])
        return index < 0 ? nil : ranges[index].primary
    }

    /// The replicas of the primary serving `slot` (empty when unassigned or unreplicated).
    public func replicas(for slot: Int) -> [Node] {
        guard slot >= 0, slot < owner.count else { return [] }
        let index = Int(owner[slot])
        return index < 0 ? [] : ranges[index].replicas
    }

    public var primaries: [Node] {
        var seen = Set<Node>()
        return ranges.map(\.primary).filter { seen.insert($0).inserted }
    }

    public var replicas: Set<Node> { Set(ranges.flatMap(\.replicas)) }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Every slot assigned?
    public var coversAllSlots: Bool { !owner.contains(-1) }

    /// Applies a `MOVED slot host:port` redirect at once (the full refresh follows separately).
    public mutating func move(slot: Int, to node: Node) {
        guard slot >= 0, slot < owner.count, primary(for: slot) != node, ranges.count < Int(Int16.max) else { return }
        ranges.append(Range(slots: slot...slot, primary: node, replicas: []))
        owner[slot] = Int16(ranges.count - 1)
    }

    private mutating func rebuildIndex() {
        for (index, range) in ranges.enumerated() {
            for slot in range.slots where slot >= 0 && slot < owner.count { owner[slot] = Int16(index) }
        }
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], [replica host, port, …]…]…]`.
    /// An empty host (a node that does not know its own address) is replaced by `fallbackHost`.
    public static func parse(clusterSlots reply: RESPValue, fallbackHost: String) throws(RedisError) -> ClusterSlotMap {
        guard let entries = reply.array else { throw .protocolError("CLUSTER SLOTS: expected an array, got \(reply)") }
        var ranges: [Range] = []
        for entry in entries {
            guard let items = entry.array, items.count >= 3, let start = items[0].int, let end = items[1].int,
                start >= 0, end >= start, end < RedisHashSlot.count
            else { throw .protocolError("CLUSTER SLOTS: bad slot range \(entry)") }
            let primary = try node(items[2], fallbackHost: fallbackHost)
            var replicas: [Node] = []
            for item in items.dropFirst(3) { replicas.append(try node(item, fallbackHost: fallbackHost)) }
            ranges.append(Range(slots: start...end, primary: primary, replicas: replicas))
        }
        return ClusterSlotMap(ranges: ranges)
    }

    private static func node(_ value: RESPValue, fallbackHost: String) throws(RedisError) -> Node {
        guard let items = value.array, items.count >= 2, let host = items[0].string, let port = items[1].int,
            (1...65535).contains(port)
        else { throw .protocolError("CLUSTER SLOTS: bad node \(value)") }
        let usable = host.isEmpty || host == "?" ? fallbackHost : host
        return usable.contains(":") ? "[\(usable)]:\(port)" : "\(usable):\(port)"
    }
}

/// A `-MOVED slot host:port` or `-ASK slot host:port` error reply.
public struct ClusterRedirect: Sendable, Equatable {
    public enum Kind: String, Sendable { case moved, ask }
    public var kind: Kind
    public var slot: Int
    public var node: ClusterSlotMap.Node

    public init?(errorMessage message: String) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), slot >= 0, slot < RedisHashSlot.count,
            parts[2].contains(":"), !parts[2].hasPrefix(":")
        else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        self.slot = slot
        self.node = String(parts[2])
    }
}

extension ClusterSlotMap {
    /// Splits `host:port` (or `[v6]:port`) into its parts.
    public static func address(of node: Node) -> RedisConfiguration.Address? {
        guard let colon = node.lastIndex(of: ":"), let port = Int(node[node.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = node[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return .tcp(host: String(host), port: port)
    }
}
