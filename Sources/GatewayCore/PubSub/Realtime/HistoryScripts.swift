import GatewayRedis
import NIOCore

/// The Lua scripts behind history channels (SPEC §9). Keys: `KEYS[1]` stream, `KEYS[2]` meta hash (see
/// `HistoryKeys`); both expire `ttl` after the last publish.
///
/// The stream is "lost" when the meta hash is missing, or when it says messages were published but the stream is
/// gone (expired, deleted, FLUSHALL): then the epoch is replaced by the caller's fresh candidate and offsets restart.
enum HistoryScripts {
    /// ARGV: redis channel, data, size, ttl ms, candidate epoch, publish command. Appends `OFFSET-0 d DATA` (trimmed
    /// to `size`) and publishes `{"offset":N,"epoch":"E","data":DATA}` in the same atomic step, so a subscriber can
    /// never see an offset live before it is readable from the stream. Returns `{offset, epoch}`.
    static let publish = RedisScript(
        """
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        local top = tonumber(redis.call('HGET', KEYS[2], 'offset') or '0')
        if (not epoch) or (top > 0 and redis.call('EXISTS', KEYS[1]) == 0) then
          epoch = ARGV[5]
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[2], 'epoch', epoch, 'offset', 0)
        end
        top = redis.call('HINCRBY', KEYS[2], 'offset', 1)
        redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], top .. '-0', 'd', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        redis.call(ARGV[6], ARGV[1], '{"offset":' .. top .. ',"epoch":"' .. epoch .. '","data":' .. ARGV[2] .. '}')
        return {top, epoch}
        """)

    /// ARGV: mode (`after`|`last`|`position`), n (offset for `after`, count for `last`), candidate epoch, ttl ms,
    /// create (`1` = start the stream's epoch when missing, as a subscribe does; `0` = report epoch "" instead).
    /// Returns `{epoch, offset, entries}` read atomically, so the entries and the position agree.
    static let read = RedisScript(
        """
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        local top = tonumber(redis.call('HGET', KEYS[2], 'offset') or '0')
        if (not epoch) or (top > 0 and redis.call('EXISTS', KEYS[1]) == 0) then
          if ARGV[5] ~= '1' then return {'', 0, {}} end
          epoch = ARGV[3]
          top = 0
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[2], 'epoch', epoch, 'offset', 0)
          redis.call('PEXPIRE', KEYS[2], ARGV[4])
        end
        local entries = {}
        if ARGV[1] == 'after' then
          local from = tonumber(ARGV[2]) + 1
          if from <= top then entries = redis.call('XRANGE', KEYS[1], from .. '-0', '+') end
        elseif ARGV[1] == 'last' then
          local n = tonumber(ARGV[2])
          if n > 0 then entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', n) end
        end
        return {epoch, top, entries}
        """)

    /// Parses the read script's reply (entries ascending). nil for an unexpected shape.
    static func parseRead(_ reply: RESPValue, query: HistoryQuery) -> HistoryRead? {
        guard let items = reply.array, items.count == 3, let epoch = items[0].string, let top = items[1].int,
            top >= 0, let rawEntries = items[2].array
        else { return nil }
        var entries: [HistoryEntry] = []
        entries.reserveCapacity(rawEntries.count)
        for raw in rawEntries {
            guard let pair = raw.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array,
                let offset = UInt64(id.split(separator: "-").first ?? "")
            else { return nil }
            var data: ByteBuffer? = nil
            var index = 0
            while index + 1 < fields.count {
                if fields[index].string == "d", case .bulkString(let value) = fields[index + 1] { data = value }
                index += 2
            }
            guard let data else { return nil }
            entries.append(HistoryEntry(offset: offset, data: data))
        }
        if case .last = query { entries.reverse() }
        return HistoryRead(position: StreamPosition(offset: UInt64(top), epoch: epoch), entries: entries)
    }
}
