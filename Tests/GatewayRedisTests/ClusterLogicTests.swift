@testable import GatewayRedis
import NIOCore
import Testing

/// Pure parts of the Cluster support: hash slots, `CLUSTER SLOTS` parsing, redirect parsing.
@Suite struct ClusterLogicTests {
    @Test func hashSlotsMatchRedisReferenceValues() {
        // CRC16/XMODEM("123456789") = 0x31C3 (the check value of the Redis Cluster spec).
        #expect(RedisHashSlot.slot(for: "123456789") == 0x31C3)
        #expect(RedisHashSlot.slot(for: "foo") == 12182)
        #expect(RedisHashSlot.slot(for: "bar") == 5061)
        #expect(RedisHashSlot.slot(for: "") == 0)
    }

    @Test func hashTagRules() {
        let user = RedisHashSlot.slot(for: "user1000")
        #expect(RedisHashSlot.slot(for: "{user1000}.following") == user)
        #expect(RedisHashSlot.slot(for: "{user1000}.followers") == user)
        #expect(RedisHashSlot.slot(for: "foo{bar}{zap}") == RedisHashSlot.slot(for: "bar"))
        // An empty tag means no tag: the whole key is hashed.
        #expect(RedisHashSlot.slot(for: "foo{}{bar}") != RedisHashSlot.slot(for: "bar"))
        #expect(RedisHashSlot.slot(for: "foo{{bar}}zap") == RedisHashSlot.slot(for: "{bar"))
        // Unterminated tag: whole key.
        #expect(RedisHashSlot.slot(for: "foo{bar") == RedisHashSlot.slot(for: "foo{bar"))
        #expect(RedisHashSlot.slot(for: "{}") == RedisHashSlot.slot(for: "{}"))
        // Non-ASCII keys hash their UTF-8 bytes.
        #expect((0..<16384).contains(RedisHashSlot.slot(for: "clé-ü-€")))
    }

    private func node(_ host: String, _ port: Int) -> RESPValue {
        .array([.bulkString(ByteBuffer(string: host)), .integer(port), .bulkString(ByteBuffer(string: "id"))])
    }

    @Test func parsesClusterSlots() throws {
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)]),
            .array([.integer(5461), .integer(10922), node("", 7001), node("127.0.0.1", 7004)]),
            .array([.integer(10923), .integer(16383), node("::1", 7002)]),
        ])
        let map = try ClusterSlotMap.parse(clusterSlots: reply, fallbackHost: "10.0.0.9")
        #expect(map.primary(for: 0) == "127.0.0.1:7000")
        #expect(map.primary(for: 5460) == "127.0.0.1:7000")
        #expect(map.primary(for: 5461) == "10.0.0.9:7001")
        #expect(map.primary(for: 16383) == "[::1]:7002")
        #expect(map.primary(for: 16384) == nil)
        #expect(map.primaries == ["127.0.0.1:7000", "10.0.0.9:7001", "[::1]:7002"])
        #expect(map.replicas == ["127.0.0.1:7003", "127.0.0.1:7004"])
        #expect(map.coversAllSlots)
        #expect(ClusterSlotMap.address(of: "[::1]:7002") == .tcp(host: "::1", port: 7002))
        #expect(ClusterSlotMap.address(of: "127.0.0.1:7000") == .tcp(host: "127.0.0.1", port: 7000))
        #expect(ClusterSlotMap.address(of: "127.0.0.1") == nil)
        #expect(ClusterSlotMap.address(of: ":7000") == nil)

        var moved = map
        moved.move(slot: 42, to: "127.0.0.1:7001")
        #expect(moved.primary(for: 42) == "127.0.0.1:7001")
        #expect(moved.primary(for: 43) == "127.0.0.1:7000")

        // Replica reads: the replicas of the slot's primary; none for an unreplicated, moved or unknown slot.
        #expect(map.replicas(for: 0) == ["127.0.0.1:7003"])
        #expect(map.replicas(for: 5461) == ["127.0.0.1:7004"])
        #expect(map.replicas(for: 16383) == [])
        #expect(map.replicas(for: -1) == [] && map.replicas(for: 16384) == [])
        #expect(moved.replicas(for: 42) == [])
        #expect(moved.replicas(for: 43) == ["127.0.0.1:7003"])
    }

    @Test func partialMapsAreNotComplete() throws {
        let reply = RESPValue.array([.array([.integer(0), .integer(100), node("h", 1)])])
        let map = try ClusterSlotMap.parse(clusterSlots: reply, fallbackHost: "x")
        #expect(!map.coversAllSlots)
        #expect(map.primary(for: 101) == nil)
        #expect(try ClusterSlotMap.parse(clusterSlots: .array([]), fallbackHost: "x").isEmpty)
    }

    @Test func rejectsMalformedClusterSlots() {
        let bad: [RESPValue] = [
            .null,
            .simpleString("OK"),
            .array([.integer(1)]),
            .array([.array([.integer(0), .integer(10)])]),  // no node
            .array([.array([.integer(10), .integer(0), node("h", 1)])]),  // end < start
            .array([.array([.integer(0), .integer(16384), node("h", 1)])]),  // beyond the last slot
            .array([.array([.integer(-1), .integer(5), node("h", 1)])]),
            .array([.array([.integer(0), .integer(5), .array([.bulkString(ByteBuffer(string: "h"))])])]),
            .array([.array([.integer(0), .integer(5), node("h", 0)])]),
            .array([.array([.integer(0), .integer(5), node("h", 70000)])]),
            .array([.array([.integer(0), .integer(5), .integer(3)])]),
            .array([.array([.bulkString(ByteBuffer(string: "x")), .integer(5), node("h", 1)])]),
        ]
        for reply in bad {
            #expect(throws: RedisError.self) { try ClusterSlotMap.parse(clusterSlots: reply, fallbackHost: "x") }
        }
    }

    @Test func parsesRedirects() {
        #expect(ClusterRedirect(errorMessage: "MOVED 3999 127.0.0.1:6381")
            == .init(kind: .moved, slot: 3999, node: "127.0.0.1:6381"))
        #expect(ClusterRedirect(errorMessage: "ASK 0 [::1]:7000") == .init(kind: .ask, slot: 0, node: "[::1]:7000"))
        for bad in ["MOVED", "MOVED 1", "MOVED x 127.0.0.1:1", "MOVED 16384 h:1", "MOVED -1 h:1", "ASK 1 nohost",
                    "ASK 1 :7000", "ERR unknown", "MOVED 1 h:1 extra", "CROSSSLOT Keys in request don't hash"] {
            #expect(ClusterRedirect(errorMessage: bad) == nil, "\(bad)")
        }
    }
}

extension ClusterRedirect {
    init(kind: Kind, slot: Int, node: String) {
        self.init(errorMessage: "\(kind == .moved ? "MOVED" : "ASK") \(slot) \(node)")!
    }
}
