import Foundation
@testable import GatewayRedis
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Against the real 3-primary/3-replica cluster scripts/test.sh starts (GATEWAY_TEST_CLUSTER_NODES);
/// skipped only when that variable is absent.
@Suite(.enabled(if: ClusterEnvironment.nodes != nil, "GATEWAY_TEST_CLUSTER_NODES is not set"), .serialized)
struct ClusterClientTests {
    final class Counts: Sendable {
        let moved = NIOLockedValueBox(0)
        let ask = NIOLockedValueBox(0)
        var events: RedisTopologyEvents {
            RedisTopologyEvents(redirect: { kind in
                (kind == .moved ? self.moved : self.ask).withLockedValue { $0 += 1 }
            })
        }
    }

    static func withClusterClient<T>(counts: Counts = Counts(),
                                     _ body: (RedisClient, MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var template = RedisConfiguration(address: .tcp(host: "127.0.0.1", port: 1), commandTimeout: .seconds(2))
        template.maximumReconnectDelay = .milliseconds(200)
        let client = RedisClient(clusterSeeds: Array(ClusterEnvironment.nodes!.prefix(2)), template: template,
                                 group: group, logger: TestSupport.logger, events: counts.events)
        client.start()
        do {
            for loop in group.makeIterator() {
                try await client.waitUntilConnected(on: loop, timeout: .seconds(20)).get()
            }
            let result = try await body(client, group)
            await client.shutdown()
            try await group.shutdownGracefully()
            return result
        } catch {
            await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// A single-node client for admin commands on one cluster node.
    static func withNode<T>(_ node: String, _ body: (RedisClient, any EventLoop) async throws -> T) async throws -> T {
        try await TestSupport.withClient(url: "redis://\(node)", threads: 1) { client, group in
            try await body(client, group.next())
        }
    }

    @Test func localSlotsMatchClusterKeyslot() async throws {
        try await Self.withNode(ClusterEnvironment.nodes![0]) { node, loop in
            var keys = ["", "foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{", "}", "{}", "a{b}c{d}",
                        "gw:rl:api:per-ip:ip=127.0.0.1", "gw:sess:abc", "gw:ch:news", "clé-€"]
            for i in 0..<300 { keys.append("key:\(i):\(UInt32.random(in: 0...UInt32.max))") }
            for key in keys {
                let reply = try await node.send(["CLUSTER", "KEYSLOT", key], on: loop).get()
                #expect(reply.int == RedisHashSlot.slot(for: key), "\(key)")
            }
        }
    }

    @Test func routesCommandsAndScriptsByKey() async throws {
        try await Self.withClusterClient { client, group in
            let loop = group.next()
            let prefix = TestSupport.uniqueKey("cluster")
            #expect(client.isCluster && client.isConnected)
            #expect(client.topology.kind == "cluster")
            #expect(client.topology.details.contains { $0 == ("nodes", "6") })
            // Keys spread over every shard.
            for i in 0..<200 {
                _ = try await client.send(["SET", "\(prefix):\(i)", String(i)], on: loop).get()
            }
            for i in 0..<200 {
                #expect(try await client.send(["GET", "\(prefix):\(i)"], on: loop).get().string == String(i))
            }
            // Scripts with several keys of one slot (hash tag), loaded per node via NOSCRIPT fallback.
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) + redis.call('INCRBY', KEYS[2], ARGV[1])")
            for i in 0..<20 {
                let keys = ["{\(prefix):\(i)}:a", "{\(prefix):\(i)}:b"]
                #expect(try await client.evaluate(script, keys: keys, arguments: ["2"], on: loop).get().int == 4)
            }
            // Keys of different slots in one script: Redis refuses, the error surfaces.
            var crossSlot = ""
            do {
                _ = try await client.evaluate(script, keys: ["\(prefix):x1", "\(prefix):x2:zz"], arguments: ["1"],
                                              on: loop).get()
            } catch RedisError.server(let message) { crossSlot = message }
            #expect(RedisHashSlot.slot(for: "\(prefix):x1") == RedisHashSlot.slot(for: "\(prefix):x2:zz")
                    || crossSlot.hasPrefix("CROSSSLOT"))
        }
    }

    /// Migrates one slot by hand (SETSLOT IMPORTING/MIGRATING, then NODE): the client follows `ASK` during the
    /// migration and `MOVED` after it, without errors, then the slot is moved back.
    @Test func followsAskAndMovedDuringSlotMigration() async throws {
        let counts = Counts()
        try await Self.withClusterClient(counts: counts) { client, group in
            let loop = group.next()
            let key = TestSupport.uniqueKey("migrate")
            let slot = RedisHashSlot.slot(for: key)
            guard case .cluster(let router) = client.mode else { Issue.record("not a cluster client"); return }
            let source = try #require(router.slotMap.primary(for: slot))
            let target = try #require(router.slotMap.primaries.first { $0 != source })
            let primaries = router.slotMap.primaries
            let sourceID = try await Self.withNode(source) { n, l in try await n.send(["CLUSTER", "MYID"], on: l).get().string! }
            let targetID = try await Self.withNode(target) { n, l in try await n.send(["CLUSTER", "MYID"], on: l).get().string! }

            try await Self.withNode(target) { n, l in
                _ = try await n.send(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID], on: l).get()
            }
            try await Self.withNode(source) { n, l in
                _ = try await n.send(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID], on: l).get()
            }
            // The key does not exist on the source: the source answers ASK, the client asks the target.
            _ = try await client.send(["SET", key, "v1"], on: loop).get()
            #expect(try await client.send(["GET", key], on: loop).get().string == "v1")
            #expect(counts.ask.withLockedValue { $0 } >= 2)
            #expect(router.slotMap.primary(for: slot) == source)  // ASK does not change the map

            // Finish the migration: every primary learns the new owner.
            for node in [target, source] + primaries.filter({ $0 != source && $0 != target }) {
                try await Self.withNode(node) { n, l in
                    _ = try await n.send(["CLUSTER", "SETSLOT", String(slot), "NODE", targetID], on: l).get()
                }
            }
            #expect(try await client.send(["GET", key], on: loop).get().string == "v1")
            #expect(try await TestSupport.eventually(timeout: .seconds(10)) { router.slotMap.primary(for: slot) == target })

            // Move it back (empty it first) so the shared cluster is as before.
            _ = try await client.send(["DEL", key], on: loop).get()
            for node in [source, target] + primaries.filter({ $0 != source && $0 != target }) {
                try await Self.withNode(node) { n, l in
                    _ = try await n.send(["CLUSTER", "SETSLOT", String(slot), "NODE", sourceID], on: l).get()
                }
            }
            _ = try await client.send(["SET", key, "v2"], on: loop).get()
            #expect(try await client.send(["GET", key], on: loop).get().string == "v2")
            #expect(counts.moved.withLockedValue { $0 } >= 1)
            _ = try await client.send(["DEL", key], on: loop).get()
        }
    }

    @Test func shardedPubSubReachesSubscribersOnEveryShard() async throws {
        try await Self.withClusterClient { client, group in
            let loop = group.next()
            let received = NIOLockedValueBox<[String: [String]]>([:])
            let subscriber = client.makeSubscriber(eventLoop: group.next()) { channel, payload in
                received.withLockedValue { $0[channel, default: []].append(String(buffer: payload)) }
            }
            subscriber.start()
            let prefix = TestSupport.uniqueKey("ch")
            let channels = (0..<12).map { "\(prefix):\($0)" }
            for channel in channels { try await subscriber.subscribe(channel).get() }
            #expect(Set(channels.map { RedisHashSlot.slot(for: $0) }).count > 3)
            for i in 0..<5 {
                for channel in channels {
                    _ = try await client.send([client.publishCommand, channel, "m\(i)"], on: loop).get()
                }
            }
            let complete = try await TestSupport.eventually(timeout: .seconds(10)) {
                received.withLockedValue { r in channels.allSatisfy { r[$0] == ["m0", "m1", "m2", "m3", "m4"] } }
            }
            #expect(complete)
            #expect(subscriber.isConnected)
            await subscriber.shutdown()
        }
    }
}

/// Against the real Sentinel group scripts/test.sh starts (GATEWAY_TEST_SENTINEL_NODES).
@Suite(.enabled(if: ClusterEnvironment.sentinels != nil, "GATEWAY_TEST_SENTINEL_NODES is not set"))
struct SentinelClientTests {
    @Test func discoversThePrimaryAndWritesThere() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let sentinels = ClusterEnvironment.sentinels!.compactMap(ClusterSlotMap.address(of:))
        let data = RedisConfiguration(address: .tcp(host: "127.0.0.1", port: 1), commandTimeout: .seconds(2))
        let client = RedisClient(sentinel: RedisSentinelConfiguration(
            masterName: ClusterEnvironment.sentinelMaster, sentinels: sentinels, data: data),
            group: group, logger: TestSupport.logger)
        client.start()
        do {
            try await Self.exercise(client, group: group)
            await client.shutdown()
            try await group.shutdownGracefully()
        } catch {
            await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    static func exercise(_ client: RedisClient, group: MultiThreadedEventLoopGroup) async throws {
        for loop in group.makeIterator() { try await client.waitUntilConnected(on: loop, timeout: .seconds(20)).get() }
        let loop = group.next()
        let role = try await client.send(["ROLE"], on: loop).get()
        #expect(role.array?.first?.string == "master")
        let key = TestSupport.uniqueKey("sentinel")
        _ = try await client.send(["SET", key, "x"], on: loop).get()
        #expect(try await client.send(["GET", key], on: loop).get().string == "x")
        #expect(client.topology.kind == "sentinel")
        let master = try #require(client.topology.details.first { $0.0 == "master" }?.1)
        #expect(master.hasPrefix("\"127.0.0.1:"))

        let received = NIOLockedValueBox<[String]>([])
        let subscriber = client.makeSubscriber(eventLoop: loop) { _, payload in
            received.withLockedValue { $0.append(String(buffer: payload)) }
        }
        subscriber.start()
        #expect(try await TestSupport.eventually { subscriber.isConnected })
        try await subscriber.subscribe(key + ":ch").get()
        _ = try await client.send(["PUBLISH", key + ":ch", "hello"], on: loop).get()
        #expect(try await TestSupport.eventually { received.withLockedValue { $0 == ["hello"] } })
        await subscriber.shutdown()
        _ = try await client.send(["DEL", key], on: loop).get()
    }
}

enum ClusterEnvironment {
    static var nodes: [String]? { list("GATEWAY_TEST_CLUSTER_NODES") }
    static var sentinels: [String]? { list("GATEWAY_TEST_SENTINEL_NODES") }
    static var sentinelMaster: String { ProcessInfo.processInfo.environment["GATEWAY_TEST_SENTINEL_MASTER"] ?? "mymaster" }

    private static func list(_ name: String) -> [String]? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value.split(separator: ",").map(String.init)
    }
}
