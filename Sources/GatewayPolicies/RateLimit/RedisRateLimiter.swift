import GatewayRedis
import NIOCore

/// GCRA in Redis: all limits of a request checked and charged by one Lua script, so the budget holds
/// exactly across every gateway instance sharing the Redis, whatever the concurrency.
///
/// - One key per (route, limit, key value): `{prefix}rl:{route}:{limit}:{value}` holding the TAT in µs
///   (see ``RateLimitKeys``), with a `PX` expiry at the moment it stops mattering, so idle keys vanish.
/// - Time comes from Redis `TIME` inside the script: gateway clocks never matter.
/// - The script first reads every key, then writes the new TATs only if every limit admits: a request
///   refused by one limit consumes none of the others.
/// - Failures (down, timeout, closed) fail the future with the `RedisError`; wrap in
///   ``StoreBackedRateLimiter`` to apply `store.on_error`.
public final class RedisRateLimiter: RateLimiter {
    /// KEYS = the limit keys; ARGV = `T₁ τ₁ T₂ τ₂ …` (µs). Returns each key's occupancy before the request
    /// (`max(TAT, now) - now`, µs); the caller derives the verdict with the same ``GCRAParameters`` math.
    /// Integers stay exact: µs since the epoch (~1.8e15) are far below 2^53.
    static let script = RedisScript(
        """
        pcall(redis.replicate_commands)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local occupancy = {}
        local admit = true
        for i = 1, #KEYS do
          local interval = tonumber(ARGV[2 * i - 1])
          local tolerance = tonumber(ARGV[2 * i])
          local tat = now
          local raw = redis.call('GET', KEYS[i])
          if raw then tat = tonumber(raw) or now end
          local used = tat - now
          if used < 0 then used = 0 end
          occupancy[i] = used
          if used + interval > tolerance then admit = false end
        end
        if admit then
          for i = 1, #KEYS do
            local after = occupancy[i] + tonumber(ARGV[2 * i - 1])
            redis.call('SET', KEYS[i], string.format('%d', now + after), 'PX', math.floor(after / 1000) + 1)
          end
        end
        return occupancy
        """)

    private let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    public func check(_ requests: [RateLimitRequest], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        guard !requests.isEmpty else { return eventLoop.makeSucceededFuture(RateLimitDecision(results: [])) }
        let parameters = requests.map { GCRAParameters($0.limit) }
        var arguments: [String] = []
        arguments.reserveCapacity(parameters.count * 2)
        for parameter in parameters {
            arguments.append(String(parameter.emissionInterval))
            arguments.append(String(parameter.tolerance))
        }
        return client.evaluate(Self.script, keys: requests.map(\.key), arguments: arguments, on: eventLoop)
            .flatMapThrowing { reply in
                guard let items = reply.array, items.count == requests.count else {
                    throw RedisError.protocolError("rate-limit script returned \(reply)")
                }
                var occupancies: [Int64] = []
                occupancies.reserveCapacity(items.count)
                for item in items {
                    guard let value = item.int else { throw RedisError.protocolError("rate-limit script returned \(reply)") }
                    occupancies.append(Int64(value))
                }
                return Self.decision(requests: requests, parameters: parameters, occupancies: occupancies)
            }
    }

    static func decision(requests: [RateLimitRequest], parameters: [GCRAParameters], occupancies: [Int64]) -> RateLimitDecision {
        let consumed = zip(parameters, occupancies).allSatisfy { $0.admits(occupancy: $1) }
        let results = requests.indices.map { index in
            RateLimitResult(
                limit: requests[index].limit,
                outcome: parameters[index].result(occupancy: occupancies[index], consumed: consumed))
        }
        return RateLimitDecision(results: results)
    }
}
