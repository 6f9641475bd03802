import GatewayRedis
import NIOCore

/// Sessions in Redis, shared by every gateway instance: a session made on one is valid on all at once,
/// and ending it anywhere ends it everywhere.
///
/// - `{prefix}sess:{id}`: a hash `d` (JSON data), `u` (user, "" for none), `c` (created, ms), `r` (last
///   refresh, ms), with `PEXPIRE = min(idle, absolute deadline - now)` so it vanishes by itself.
/// - `{prefix}user:{user}`: a set of that user's ids (expiring with the newest session's absolute
///   deadline), so `deleteAll(user:)` never scans.
/// - Every operation is one Lua script using Redis `TIME`; lookups refresh the idle timeout only when more
///   than idle/10 has passed (``SessionExpiry``), so a busy session is not written on every request.
/// - Any Redis failure fails the future with ``SessionStoreUnavailable`` (the proxy answers 503).
/// - Redis Cluster: a session key and its user's index live in different slots, and a script may only touch
///   one slot, so the index is maintained by separate commands there: `create` runs the session script, then
///   `indexScript` on the user key; `lookup`/`delete` leave a stale id in the index (harmless: it expires with
///   the index and `deleteAll` counts only sessions that still existed); `deleteAll` reads the index and
///   deletes each session key on its own node. A session is still one key, created and checked atomically.
public final class RedisSessionStore: SessionStore {
    static let nowMilliseconds = """
        pcall(redis.replicate_commands)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        """

    /// KEYS[1] session, KEYS[2] user index (optional). ARGV: data, user, idle ms, absolute ms, id.
    static let createScript = RedisScript(
        nowMilliseconds + """

            local idle = tonumber(ARGV[3])
            local absolute = tonumber(ARGV[4])
            local stamp = string.format('%d', now)
            redis.call('HSET', KEYS[1], 'd', ARGV[1], 'u', ARGV[2], 'c', stamp, 'r', stamp)
            redis.call('PEXPIRE', KEYS[1], math.min(idle, absolute))
            if KEYS[2] then
              redis.call('SADD', KEYS[2], ARGV[5])
              if redis.call('PTTL', KEYS[2]) < absolute then redis.call('PEXPIRE', KEYS[2], absolute) end
            end
            return stamp
            """)

    /// KEYS[1] session. ARGV: idle ms, absolute ms, user index prefix, id. Returns nil or {d, u, c, r}.
    static let lookupScript = RedisScript(
        nowMilliseconds + """

            local fields = redis.call('HMGET', KEYS[1], 'd', 'u', 'c', 'r')
            if not fields[1] then return false end
            local idle = tonumber(ARGV[1])
            local absolute = tonumber(ARGV[2])
            local created = tonumber(fields[3]) or 0
            local refreshed = tonumber(fields[4]) or 0
            if now >= created + absolute or now >= refreshed + idle then
              redis.call('DEL', KEYS[1])
              if ARGV[3] ~= '' and fields[2] and fields[2] ~= '' then redis.call('SREM', ARGV[3] .. fields[2], ARGV[4]) end
              return false
            end
            if now - refreshed > math.floor(idle / 10) then
              refreshed = now
              redis.call('HSET', KEYS[1], 'r', string.format('%d', now))
              local ttl = math.min(idle, created + absolute - now)
              if ttl < 1 then ttl = 1 end
              redis.call('PEXPIRE', KEYS[1], ttl)
            end
            return {fields[1], fields[2] or '', string.format('%d', created), string.format('%d', refreshed)}
            """)

    /// KEYS[1] session. ARGV: user index prefix, id. Returns 1 when it existed.
    static let deleteScript = RedisScript(
        """
        local user = redis.call('HGET', KEYS[1], 'u')
        local removed = redis.call('DEL', KEYS[1])
        if ARGV[1] ~= '' and user and user ~= '' then redis.call('SREM', ARGV[1] .. user, ARGV[2]) end
        return removed
        """)

    /// KEYS[1] user index. ARGV: session key prefix. Returns how many sessions were live.
    static let deleteAllScript = RedisScript(
        """
        local ids = redis.call('SMEMBERS', KEYS[1])
        local removed = 0
        for _, id in ipairs(ids) do removed = removed + redis.call('DEL', ARGV[1] .. id) end
        redis.call('DEL', KEYS[1])
        return removed
        """)

    /// Cluster only: KEYS[1] user index. ARGV: id, absolute ms. Adds the id, extends the index's lifetime.
    static let indexScript = RedisScript(
        """
        redis.call('SADD', KEYS[1], ARGV[1])
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 1
        """)

    private let client: RedisClient
    private let expiry: SessionExpiry
    private let sessionPrefix: String
    private let userPrefix: String

    /// - Parameter keyPrefix: `store.key_prefix`, e.g. `gw:`.
    public init(client: RedisClient, keyPrefix: String, expiry: SessionExpiry) {
        self.client = client
        self.expiry = expiry
        self.sessionPrefix = keyPrefix + "sess:"
        self.userPrefix = keyPrefix + "user:"
    }

    public func create(data: String, user: String?, on eventLoop: any EventLoop) -> EventLoopFuture<String> {
        let id = SessionCookieCodec.newSessionID()
        var keys = [sessionPrefix + id]
        let arguments = [data, user ?? "", String(expiry.idle), String(expiry.absolute), id]
        if client.isCluster, let user, !user.isEmpty {
            let index = userPrefix + user
            let absolute = String(expiry.absolute)
            return run(Self.createScript, keys: keys, arguments: arguments, on: eventLoop).flatMap { _ in
                self.run(Self.indexScript, keys: [index], arguments: [id, absolute], on: eventLoop)
            }.map { _ in id }
        }
        if let user, !user.isEmpty { keys.append(userPrefix + user) }
        return run(Self.createScript, keys: keys, arguments: arguments, on: eventLoop).map { _ in id }
    }

    public func lookup(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        guard SessionCookieCodec.isWellFormedID(id[...]) else { return eventLoop.makeSucceededFuture(nil) }
        let arguments = [String(expiry.idle), String(expiry.absolute), client.isCluster ? "" : userPrefix, id]
        return run(Self.lookupScript, keys: [sessionPrefix + id], arguments: arguments, on: eventLoop)
            .flatMapThrowing { reply in
                if reply.isNull { return nil }
                guard let fields = reply.array, fields.count == 4, let data = fields[0].string,
                    let created = fields[2].int, let refreshed = fields[3].int
                else {
                    throw SessionStoreUnavailable(underlying: RedisError.protocolError("session lookup returned \(reply)"))
                }
                let user = fields[1].string.flatMap { $0.isEmpty ? nil : $0 }
                return Session(id: id, data: data, user: user, createdAt: Int64(created), lastSeen: Int64(refreshed))
            }
    }

    public func delete(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        guard SessionCookieCodec.isWellFormedID(id[...]) else { return eventLoop.makeSucceededFuture(false) }
        return run(Self.deleteScript, keys: [sessionPrefix + id], arguments: [client.isCluster ? "" : userPrefix, id],
                   on: eventLoop)
            .map { ($0.int ?? 0) > 0 }
    }

    public func deleteAll(user: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        if client.isCluster { return clusterDeleteAll(user: user, on: eventLoop) }
        return run(Self.deleteAllScript, keys: [userPrefix + user], arguments: [sessionPrefix], on: eventLoop)
            .map { $0.int ?? 0 }
    }

    /// Cluster: the index, then each session on its own node, then the index itself.
    private func clusterDeleteAll(user: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let index = userPrefix + user
        let client = self.client
        let sessionPrefix = self.sessionPrefix
        return client.send(["SMEMBERS", index], on: eventLoop).flatMap { reply in
            let ids = reply.array?.compactMap(\.string) ?? []
            let deletions = ids.map { client.send(["DEL", sessionPrefix + $0], on: eventLoop) }
            return EventLoopFuture.whenAllSucceed(deletions, on: eventLoop).flatMap { removed in
                client.send(["DEL", index], on: eventLoop).map { _ in removed.reduce(0) { $0 + ($1.int ?? 0) } }
            }
        }.flatMapErrorThrowing { error in throw SessionStoreUnavailable(underlying: error) }
    }

    private func run(_ script: RedisScript, keys: [String], arguments: [String], on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue>
    {
        client.evaluate(script, keys: keys, arguments: arguments, on: eventLoop).flatMapErrorThrowing { error in
            throw SessionStoreUnavailable(underlying: error)
        }
    }
}
