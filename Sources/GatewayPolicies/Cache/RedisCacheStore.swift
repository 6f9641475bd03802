import GatewayRedis
import NIOCore

/// The shared tier in Redis. Every key of one primary cache key carries the same hash tag, so an entry and its
/// lock live in one Cluster slot:
/// - `{prefix}cache:{DIGEST}`: a hash, `#vary` = the Vary names (comma-separated) and `v:VARIANT` = the
///   encoded ``CacheEntry`` of each variant, expiring with the newest entry's retention;
/// - `{prefix}cache:{DIGEST}:lock`: the fetch lock (`SET NX PX`, a random token; released only by its owner);
/// - `{prefix}cache-index:ROUTE`: a sorted set of `PATH\nDIGEST` members (score 0), so a prefix purge is one
///   `ZRANGEBYLEX` and never a `SCAN` (it lives in another slot: purges delete entries key by key);
/// - channel `{prefix}cache:purge`: tells every instance to drop purged entries from its memory tier.
public final class RedisCacheStore: Sendable {
    let client: RedisClient
    let keyPrefix: String

    public init(client: RedisClient, keyPrefix: String) {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    public var isAvailable: Bool { client.isConnected }

    func entryKey(_ digest: String) -> String { "\(keyPrefix)cache:{\(digest)}" }
    func lockKey(_ digest: String) -> String { "\(keyPrefix)cache:{\(digest)}:lock" }
    func indexKey(_ route: String) -> String { "\(keyPrefix)cache-index:\(route)" }
    public var purgeChannel: String { "\(keyPrefix)cache:purge" }

    /// KEYS[1] entry hash. ARGV: request field name, normalized value, … Returns the variant's bytes or nil.
    static let getScript = RedisScript(
        """
        local vary = redis.call('HGET', KEYS[1], '#vary')
        if not vary then return false end
        local h = {}
        for i = 1, #ARGV, 2 do h[ARGV[i]] = ARGV[i + 1] end
        local parts = {}
        for name in string.gmatch(vary, '[^,]+') do parts[#parts + 1] = name .. ':' .. (h[name] or '') end
        return redis.call('HGET', KEYS[1], 'v:' .. table.concat(parts, '\\n'))
        """)

    /// KEYS[1] lock. ARGV[1] token. Deletes the lock only when we still own it.
    static let unlockScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// `fields`: the request's (lower-cased name, normalized value) pairs.
    public func get(digest: String, fields: [(String, String)], on eventLoop: any EventLoop) -> EventLoopFuture<CacheEntry?> {
        var arguments: [String] = []
        arguments.reserveCapacity(fields.count * 2)
        for (name, value) in fields {
            arguments.append(name)
            arguments.append(value)
        }
        return client.evaluate(Self.getScript, keys: [entryKey(digest)], arguments: arguments, on: eventLoop).map { reply in
            if case .bulkString(let bytes) = reply { return CacheEntryCodec.decode(bytes) }
            return nil
        }
    }

    public func put(digest: String, entry: CacheEntry, retentionMilliseconds: Int, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    {
        let key = entryKey(digest)
        let allocator = ByteBufferAllocator()
        func text(_ value: String) -> ByteBuffer { allocator.buffer(string: value) }
        let bytes = CacheEntryCodec.encode(entry, allocator: allocator)
        let set = client.send(
            [text("HSET"), text(key), text("#vary"), text(entry.varyNames.joined(separator: ",")),
             text("v:" + entry.variant), bytes], on: eventLoop)
        let expire = client.send(["PEXPIRE", key, String(max(1, retentionMilliseconds))], on: eventLoop)
        var member = allocator.buffer(string: entry.path)
        member.writeString("\n" + digest)
        let index = client.send([text("ZADD"), text(indexKey(entry.route)), text("0"), member], on: eventLoop)
        return set.and(expire).and(index).map { _ in () }
    }

    /// true when we got the fetch lock for `digest`.
    public func lock(digest: String, token: String, milliseconds: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        client.send(["SET", lockKey(digest), token, "NX", "PX", String(max(1, milliseconds))], on: eventLoop).map { reply in
            reply.string == "OK"
        }
    }

    public func isLocked(digest: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        client.send(["EXISTS", lockKey(digest)], on: eventLoop).map { $0.int == 1 }
    }

    public func unlock(digest: String, token: String, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        client.evaluate(Self.unlockScript, keys: [lockKey(digest)], arguments: [token], on: eventLoop).map { _ in () }
    }

    /// Deletes every variant of `digest`. Returns 1 when something was stored.
    public func purge(digest: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        client.send(["DEL", entryKey(digest)], on: eventLoop).map { $0.int ?? 0 }
    }

    /// Deletes the route's entries whose path starts with `prefix`; returns how many keys existed.
    public func purge(route: String, pathPrefix: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let allocator = ByteBufferAllocator()
        let index = indexKey(route)
        let low = allocator.buffer(string: "[" + pathPrefix)
        var high = allocator.buffer(string: "[" + pathPrefix)
        high.writeInteger(UInt8(0xFF))
        return client.send(
            [allocator.buffer(string: "ZRANGEBYLEX"), allocator.buffer(string: index), low, high], on: eventLoop
        ).flatMap { reply -> EventLoopFuture<Int> in
            let members: [ByteBuffer] = (reply.array ?? []).compactMap {
                if case .bulkString(let bytes) = $0 { return bytes }
                return nil
            }
            guard !members.isEmpty else { return eventLoop.makeSucceededFuture(0) }
            var deletions: [EventLoopFuture<Int>] = []
            for member in members {
                guard let text = member.getString(at: member.readerIndex, length: member.readableBytes),
                    let digest = text.split(separator: "\n").last
                else { continue }
                deletions.append(self.purge(digest: String(digest), on: eventLoop))
            }
            var remove = [allocator.buffer(string: "ZREM"), allocator.buffer(string: index)]
            remove += members
            let removal = self.client.send(remove, on: eventLoop).map { _ in 0 }
            return EventLoopFuture.whenAllSucceed(deletions + [removal], on: eventLoop).map { $0.reduce(0, +) }
        }
    }

    /// Tells every instance (this one included) to drop entries from its memory tier.
    public func publishPurge(_ message: CachePurgeMessage, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        client.send([client.publishCommand, purgeChannel, message.encoded], on: eventLoop).map { _ in () }
    }
}

/// What a purge tells the memory tiers of every instance.
public enum CachePurgeMessage: Sendable, Equatable {
    case digest(String)
    case prefix(route: String, path: String)

    public var encoded: String {
        switch self {
        case .digest(let digest): return "d\n" + digest
        case .prefix(let route, let path): return "p\n\(route)\n\(path)"
        }
    }

    public init?(encoded: String) {
        let parts = encoded.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("d", 2): self = .digest(parts[1])
        case ("p", 3): self = .prefix(route: parts[1], path: parts[2])
        default: return nil
        }
    }
}
