import Foundation
import GatewayConfig
import GatewayPolicies
import GatewayRedis
import Logging
import NIOCore

/// The shared response cache of one process (SPEC §11): the memory tier in front, the Redis tier shared by every
/// instance (when `store.redis` is set), in-process coalescing, the fleet-wide fetch lock, purges and stats.
/// The proxy drives it from `ProxyHandler+Cache.swift`; everything here is thread-safe.
final class ResponseCache: Sendable {
    let settings: CacheSettings
    let memory: MemoryCacheTier
    let shared: RedisCacheStore?
    let coalescer = CacheCoalescer()
    let metrics = CacheMetrics()
    let logger: Logger
    private let subscriber: (any RedisChannelSubscriber)?

    init(settings: CacheSettings, redis: RedisClient?, keyPrefix: String, group: any EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.memory = MemoryCacheTier(capacity: settings.memoryBytes)
        self.logger = logger
        if let redis {
            let store = RedisCacheStore(client: redis, keyPrefix: keyPrefix)
            self.shared = store
            // Purges reach every instance's memory tier through this channel.
            let memory = self.memory
            let subscriber = redis.makeSubscriber(eventLoop: group.next()) { _, payload in
                guard let text = payload.getString(at: payload.readerIndex, length: payload.readableBytes),
                    let message = CachePurgeMessage(encoded: text)
                else { return }
                Self.apply(message, to: memory)
            }
            subscriber.start()
            subscriber.subscribe(store.purgeChannel)
            self.subscriber = subscriber
        } else {
            self.shared = nil
            self.subscriber = nil
        }
    }

    func shutdown() async {
        await subscriber?.shutdown()
    }

    static func apply(_ message: CachePurgeMessage, to memory: MemoryCacheTier) {
        switch message {
        case .digest(let digest): memory.remove(digest: digest)
        case .prefix(let route, let path): memory.remove(route: route, pathPrefix: path)
        }
    }

    /// What a lookup found.
    enum Lookup {
        case entry(CacheEntry)
        case none
        /// The shared store is configured but unreachable: bypass the cache.
        case unavailable
    }

    /// Memory tier first; Redis when the memory tier has nothing fresh (another instance may have refreshed the
    /// entry). Redis's answer is copied into the memory tier.
    func lookup(
        digest: String, fields: [(String, String)], isFresh: (CacheEntry) -> Bool, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Lookup> {
        let header = Self.headerLookup(fields)
        let local = memory.get(digest: digest, requestHeader: header)
        if let local, isFresh(local) { return eventLoop.makeSucceededFuture(.entry(local)) }
        guard let shared else { return eventLoop.makeSucceededFuture(local.map { .entry($0) } ?? .none) }
        guard shared.isAvailable else {
            return eventLoop.makeSucceededFuture(local.map { .entry($0) } ?? .unavailable)
        }
        let memory = self.memory
        let metrics = self.metrics
        return shared.get(digest: digest, fields: fields, on: eventLoop).map { entry -> Lookup in
            guard let entry else {
                // Purged or expired in Redis: the local copy is stale anyway.
                return local.map { .entry($0) } ?? .none
            }
            if let local, local.storedAt > entry.storedAt { return .entry(local) }
            memory.put(digest: digest, entry: entry)
            return .entry(entry)
        }.recover { _ in
            metrics.storeError()
            return local.map { .entry($0) } ?? .unavailable
        }
    }

    /// Only the memory tier (after waiting for a local leader, which put its result there).
    func lookupMemory(digest: String, fields: [(String, String)]) -> CacheEntry? {
        memory.get(digest: digest, requestHeader: Self.headerLookup(fields))
    }

    /// Stores in both tiers; the future completes when Redis has it (or failed: logged and counted, never
    /// surfaced to a client).
    func store(digest: String, entry: CacheEntry, windows: CacheRules.Windows, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        memory.put(digest: digest, entry: entry)
        metrics.stored(memoryBytes: memory.stats.bytes)
        guard let shared, shared.isAvailable else { return eventLoop.makeSucceededVoidFuture() }
        let retention = Int(CacheRules.retention(of: entry, windows: windows) * 1000)
        let metrics = self.metrics
        return shared.put(digest: digest, entry: entry, retentionMilliseconds: retention, on: eventLoop).recover { _ in
            metrics.storeError()
        }
    }

    /// The fleet-wide fetch lock. Succeeds with true without Redis (the in-process coalescer is the whole fleet)
    /// and when Redis fails (the request must not wait on a broken store).
    func lock(digest: String, token: String, milliseconds: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        guard let shared, shared.isAvailable else { return eventLoop.makeSucceededFuture(true) }
        return shared.lock(digest: digest, token: token, milliseconds: milliseconds, on: eventLoop).recover { _ in true }
    }

    func unlock(digest: String, token: String, on eventLoop: any EventLoop) {
        guard let shared else { return }
        _ = shared.unlock(digest: digest, token: token, on: eventLoop)
    }

    /// Purges everywhere: Redis, then every memory tier (ours directly, the others through pub/sub).
    func purge(_ message: CachePurgeMessage, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let memoryCount: Int
        switch message {
        case .digest(let digest): memoryCount = memory.remove(digest: digest)
        case .prefix(let route, let path): memoryCount = memory.remove(route: route, pathPrefix: path)
        }
        metrics.memoryBytes(memory.stats.bytes)
        guard let shared else { return eventLoop.makeSucceededFuture(memoryCount) }
        let removal: EventLoopFuture<Int>
        switch message {
        case .digest(let digest): removal = shared.purge(digest: digest, on: eventLoop)
        case .prefix(let route, let path): removal = shared.purge(route: route, pathPrefix: path, on: eventLoop)
        }
        return removal.flatMap { count in
            shared.publishPurge(message, on: eventLoop).map { max(count, memoryCount) }
        }
    }

    /// `(lower-cased name, normalized value)` of a request's fields, the form both tiers compute variants from.
    static func fields(of headers: [(String, String)]) -> [(String, String)] {
        var combined: [(String, String)] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            if let index = combined.firstIndex(where: { $0.0 == lower }) {
                combined[index].1 += "," + value
            } else {
                combined.append((lower, value))
            }
        }
        return combined.map { ($0.0, CacheKey.normalize($0.1)) }
    }

    static func headerLookup(_ fields: [(String, String)]) -> (String) -> String? {
        { name in fields.first { $0.0 == name }?.1 }
    }
}
