import GatewayRedis
import NIOConcurrencyHelpers
import NIOCore

/// GCRA in Redis: every limit of a request checked and charged in one atomic Lua step, so the budget holds
/// exactly across every gateway instance sharing the Redis, whatever the concurrency.
///
/// - One key per (route, limit, key value): `{prefix}rl:{route}:{limit}:{value}` holding the TAT in µs
///   (see ``RateLimitKeys``), with a `PX` expiry at the moment it stops mattering, so idle keys vanish.
/// - Time comes from Redis `TIME` inside the script: gateway clocks never matter.
/// - A request refused by one of its limits consumes none of the others.
/// - The checks issued on one event loop during one tick travel together as one `EVALSHA` (see
///   ``RateLimitBatch``); the script decides them one after another in arrival order, so batching changes
///   the cost, never the verdicts.
/// - Failures (down, timeout, closed) fail the future with the `RedisError`; wrap in
///   ``StoreBackedRateLimiter`` to apply `store.on_error`.
public final class RedisRateLimiter: RateLimiter {
    /// ARGV = `R, n₁, T τ …(n₁ pairs), n₂, T τ …` for R requests with nᵢ limits each (µs); KEYS = every
    /// request's limit keys, in the same order. Returns each key's occupancy before its request
    /// (`max(TAT, now) - now`, µs), flattened; the caller derives the verdicts with ``GCRAParameters``.
    /// TATs are cached in a Lua table, so a key hit twice in a batch sees the first charge, and each written
    /// key is SET once at the end. Integers stay exact: µs since the epoch (~1.8e15) are far below 2^53.
    static let script = RedisScript(
        """
        pcall(redis.replicate_commands)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tats, written, occupancy = {}, {}, {}
        local k, a = 0, 2
        for r = 1, tonumber(ARGV[1]) do
          local n = tonumber(ARGV[a])
          a = a + 1
          local admit = true
          for i = 1, n do
            local key = KEYS[k + i]
            local tat = tats[key]
            if tat == nil then
              tat = tonumber(redis.call('GET', key) or now) or now
              tats[key] = tat
            end
            local used = tat - now
            if used < 0 then used = 0 end
            occupancy[k + i] = used
            if used + tonumber(ARGV[a + 2 * i - 2]) > tonumber(ARGV[a + 2 * i - 1]) then admit = false end
          end
          if admit then
            for i = 1, n do
              local key = KEYS[k + i]
              tats[key] = now + occupancy[k + i] + tonumber(ARGV[a + 2 * i - 2])
              written[key] = true
            end
          end
          k = k + n
          a = a + 2 * n
        end
        for key in pairs(written) do
          local after = tats[key] - now
          redis.call('SET', key, string.format('%d', tats[key]), 'PX', math.floor(after / 1000) + 1)
        end
        return occupancy
        """)

    private let client: RedisClient
    private let maximumBatchSize: Int
    /// One batch per event loop; each batch is only touched on its loop.
    private let batches = NIOLockedValueBox<[ObjectIdentifier: RateLimitBatch]>([:])

    /// - Parameter maximumBatchSize: requests per `EVALSHA` at most; a fuller tick sends several.
    public init(client: RedisClient, maximumBatchSize: Int = 128) {
        self.client = client
        self.maximumBatchSize = max(maximumBatchSize, 1)
    }

    public func check(_ requests: [RateLimitRequest], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        guard !requests.isEmpty else { return eventLoop.makeSucceededFuture(RateLimitDecision(results: [])) }
        guard eventLoop.inEventLoop else {
            return eventLoop.flatSubmit { self.check(requests, on: eventLoop) }
        }
        let parameters = requests.map { GCRAParameters($0.limit) }
        return batch(for: eventLoop).enqueue(requests: requests, parameters: parameters)
    }

    func batch(for eventLoop: any EventLoop) -> RateLimitBatch {
        let id = ObjectIdentifier(eventLoop)
        return batches.withLockedValue { batches in
            if let batch = batches[id] { return batch }
            let batch = RateLimitBatch(client: client, script: Self.script, eventLoop: eventLoop,
                                       maximumSize: maximumBatchSize)
            batches[id] = batch
            return batch
        }
    }

    static func decision(requests: [RateLimitRequest], parameters: [GCRAParameters], occupancies: ArraySlice<Int64>) -> RateLimitDecision {
        let consumed = zip(parameters, occupancies).allSatisfy { $0.admits(occupancy: $1) }
        var results: [RateLimitResult] = []
        results.reserveCapacity(requests.count)
        for (index, occupancy) in zip(requests.indices, occupancies) {
            results.append(RateLimitResult(
                limit: requests[index].limit,
                outcome: parameters[index].result(occupancy: occupancy, consumed: consumed)))
        }
        return RateLimitDecision(results: results)
    }
}
