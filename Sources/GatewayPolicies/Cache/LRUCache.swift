/// A byte-weighted least-recently-used map: `get` refreshes an item, `set` evicts from the cold end until the
/// total weight fits `capacity`. An item heavier than the whole capacity is not kept. Not thread-safe (see
/// ``MemoryCacheTier``). Do not copy a value and mutate both copies: they share their nodes.
public struct LRUCache<Value> {
    private final class Node {
        let key: String
        var value: Value
        var weight: Int
        var newer: Node?
        weak var older: Node?
        init(key: String, value: Value, weight: Int) {
            self.key = key
            self.value = value
            self.weight = weight
        }
    }

    public let capacity: Int
    public private(set) var weight = 0
    private var nodes: [String: Node] = [:]
    /// Least recently used.
    private var oldest: Node?
    /// Most recently used.
    private var newest: Node?

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { nodes.count }

    public mutating func get(_ key: String) -> Value? {
        guard let node = nodes[key] else { return nil }
        unlink(node)
        append(node)
        return node.value
    }

    /// Returns the keys evicted to make room.
    @discardableResult
    public mutating func set(_ key: String, _ value: Value, weight: Int) -> [String] {
        remove(key)
        guard weight <= capacity else { return [] }
        let node = Node(key: key, value: value, weight: weight)
        nodes[key] = node
        append(node)
        self.weight += weight
        var evicted: [String] = []
        while self.weight > capacity, let cold = oldest {
            evicted.append(cold.key)
            remove(cold.key)
        }
        return evicted
    }

    @discardableResult
    public mutating func remove(_ key: String) -> Value? {
        guard let node = nodes.removeValue(forKey: key) else { return nil }
        unlink(node)
        weight -= node.weight
        return node.value
    }

    /// Removes every item `predicate` accepts; returns how many.
    @discardableResult
    public mutating func removeAll(where predicate: (String, Value) -> Bool) -> Int {
        let keys = nodes.filter { predicate($0.key, $0.value.value) }.map(\.key)
        for key in keys { remove(key) }
        return keys.count
    }

    /// Whether any key starts with `prefix` (linear; only used on eviction).
    public func containsAny(prefix: String) -> Bool {
        nodes.keys.contains { $0.hasPrefix(prefix) }
    }

    private mutating func append(_ node: Node) {
        node.older = newest
        node.newer = nil
        newest?.newer = node
        newest = node
        if oldest == nil { oldest = node }
    }

    private mutating func unlink(_ node: Node) {
        if let older = node.older { older.newer = node.newer } else { oldest = node.newer }
        if let newer = node.newer { newer.older = node.older } else { newest = node.older }
        node.newer = nil
        node.older = nil
    }
}

/// `@unchecked` because the linked nodes are reference types: a copy of the struct would share them. The only
/// owner (``MemoryCacheTier``) keeps one instance and touches it under its lock, never copying it.
extension LRUCache: @unchecked Sendable where Value: Sendable {}
