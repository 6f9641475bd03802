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
///
/// Redis Cluster: a route's limits have independent keys (per IP, per user, …) that must stay shared with every
/// other route decision using them, so they cannot all be tagged into one slot. The limits of a request are
/// therefore grouped by the primary owning their slots (``ClusterNodeRateLimitBatch``: one script call per node
/// per tick, keys of any slot of that node; a key the node no longer serves sends that request's group through
/// per-slot batches that follow `MOVED`/`ASK`):
/// - one group (a single limit, or keys on one node): exactly as above, one atomic step;
/// - several groups: each is checked-and-charged atomically in its own batch, all in parallel (no
///   extra round trip). If every group admitted, the request is admitted. If any group refused (or failed),
///   the groups that did charge are refunded (``refundScript``: TAT − T) before the verdict is returned.
/// Each key's own check is atomic, so **no budget is ever exceeded**: a charge is only made where it fits.
/// The price is conservative: between a charge and its refund (one round trip) a concurrent request on a
/// refunded key may be refused although, in the end, the budget had room for it. See docs/architecture.md.
/// Batching is per (event loop, node), and per (event loop, slot) on the fallback path.
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

    /// Gives back a charge: KEYS = keys, ARGV = their emission intervals (µs). `TAT − T`, deleted when that
    /// is already in the past. Only used when a cross-slot request was refused by another slot's limits.
    static let refundScript = RedisScript(
        """
        pcall(redis.replicate_commands)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        for i = 1, #KEYS do
          local tat = tonumber(redis.call('GET', KEYS[i]) or 0) or 0
          local back = tat - tonumber(ARGV[i])
          if back <= now then
            redis.call('DEL', KEYS[i])
          else
            redis.call('SET', KEYS[i], string.format('%d', back), 'PX', math.floor((back - now) / 1000) + 1)
          end
        end
        return 0
        """)

    private struct BatchKey: Hashable {
        var loop: ObjectIdentifier
        var slot: Int
    }

    private struct NodeBatchKey: Hashable {
        var loop: ObjectIdentifier
        var node: String
    }

    private let client: RedisClient
    private let maximumBatchSize: Int
    /// Cluster: one batch per (event loop, primary); each batch is only touched on its loop.
    private let nodeBatches = NIOLockedValueBox<[NodeBatchKey: ClusterNodeRateLimitBatch]>([:])
    /// One batch per event loop (and per hash slot in a Cluster); each batch is only touched on its loop.
    private let batches = NIOLockedValueBox<[BatchKey: RateLimitBatch]>([:])

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
        guard client.isCluster else {
            return batch(for: eventLoop).enqueue(requests: requests, parameters: parameters).map {
                Self.decision(requests: requests, parameters: parameters, occupancies: $0[...])
            }
        }
        // Cluster: one group per primary (per the slot map), checked in that node's batch; parts a node did
        // not serve fall back to per-slot groups (see ``ClusterNodeRateLimitBatch``).
        return chargeByNode(requests, parameters, on: eventLoop).flatMap { groups in
            var occupancies = [Int64](repeating: 0, count: requests.count)
            var charged: [[Int]] = []  // groups the script charged
            var failure: (any Error)? = nil
            for (indices, result) in groups {
                switch result {
                case .success(let values):
                    for (index, value) in zip(indices, values) { occupancies[index] = value }
                    if zip(indices, values).allSatisfy({ parameters[$0].admits(occupancy: $1) }) {
                        charged.append(indices)
                    }
                case .failure(let error):
                    failure = failure ?? error
                }
            }
            let decision = Self.decision(requests: requests, parameters: parameters, occupancies: occupancies[...])
            guard failure != nil || (decision.outcome != .allowed && groups.count > 1) else {
                return eventLoop.makeSucceededFuture(decision)
            }
            // Refused by one group (or partly failed): give back what the others charged (one refund per slot:
            // a node group may span slots), then answer.
            let refunds = charged.flatMap { self.slotGroups(of: $0, requests) }.map { indices in
                self.client.evaluate(Self.refundScript, keys: indices.map { requests[$0].key },
                                     arguments: indices.map { String(parameters[$0].emissionInterval) }, on: eventLoop)
            }
            return EventLoopFuture.whenAllComplete(refunds, on: eventLoop).flatMapThrowing { [failure] _ in
                if let failure { throw failure }
                return decision
            }
        }
    }

    /// One charge group's outcome: the request indices it covered and their occupancies (or the failure).
    typealias GroupResult = (indices: [Int], result: Result<[Int64], any Error>)

    /// Cluster: groups `requests` by the primary owning each key, one atomic check-and-charge per group in that
    /// node's batch, all in parallel. A group the node reports as not served (−1) goes through ``chargeBySlot``.
    private func chargeByNode(_ requests: [RateLimitRequest], _ parameters: [GCRAParameters],
                              on eventLoop: any EventLoop) -> EventLoopFuture<[GroupResult]> {
        var grouping: [(node: String, indices: [Int])] = []
        for (index, request) in requests.enumerated() {
            let node = client.clusterNode(forKey: request.key) ?? ""
            if let g = grouping.firstIndex(where: { $0.node == node }) {
                grouping[g].indices.append(index)
            } else {
                grouping.append((node, [index]))
            }
        }
        let parts = grouping.map { group -> EventLoopFuture<[GroupResult]> in
            let indices = group.indices
            return nodeBatch(for: eventLoop, node: group.node)
                .enqueue(requests: indices.map { requests[$0] }, parameters: indices.map { parameters[$0] })
                .flatMap { values -> EventLoopFuture<[GroupResult]> in
                    guard values.contains(where: { $0 < 0 }) else {
                        return eventLoop.makeSucceededFuture([(indices, .success(values))])
                    }
                    self.client.refreshClusterSlots()
                    return self.chargeBySlot(requests, parameters, indices, on: eventLoop)
                }
                .flatMapErrorThrowing { error -> [GroupResult] in [(indices, .failure(error))] }
        }
        return EventLoopFuture.whenAllSucceed(parts, on: eventLoop).map { $0.flatMap { $0 } }
    }

    /// Cluster fallback: `indices` grouped by hash slot, each group one atomic step in its slot's batch (routed by
    /// key, following `MOVED`/`ASK`).
    private func chargeBySlot(_ requests: [RateLimitRequest], _ parameters: [GCRAParameters], _ indices: [Int],
                              on eventLoop: any EventLoop) -> EventLoopFuture<[GroupResult]> {
        let grouping = slotGroups(of: indices, requests)
        let parts = grouping.map { group in
            batch(for: eventLoop, slot: client.clusterSlot(forKey: requests[group[0]].key) ?? 0)
                .enqueue(requests: group.map { requests[$0] }, parameters: group.map { parameters[$0] })
        }
        return EventLoopFuture.whenAllComplete(parts, on: eventLoop).map { results in
            zip(grouping, results).map { ($0, $1) }
        }
    }

    /// `indices` grouped by the hash slot of their keys, in first-seen order.
    private func slotGroups(of indices: [Int], _ requests: [RateLimitRequest]) -> [[Int]] {
        var grouping: [(slot: Int, indices: [Int])] = []
        for index in indices {
            let slot = client.clusterSlot(forKey: requests[index].key) ?? 0
            if let g = grouping.firstIndex(where: { $0.slot == slot }) {
                grouping[g].indices.append(index)
            } else {
                grouping.append((slot, [index]))
            }
        }
        return grouping.map(\.indices)
    }

    func nodeBatch(for eventLoop: any EventLoop, node: String) -> ClusterNodeRateLimitBatch {
        let id = NodeBatchKey(loop: ObjectIdentifier(eventLoop), node: node)
        return nodeBatches.withLockedValue { batches in
            if let batch = batches[id] { return batch }
            let batch = ClusterNodeRateLimitBatch(client: client, node: node, eventLoop: eventLoop,
                                                  maximumSize: maximumBatchSize)
            batches[id] = batch
            return batch
        }
    }

    func batch(for eventLoop: any EventLoop, slot: Int = -1) -> RateLimitBatch {
        let id = BatchKey(loop: ObjectIdentifier(eventLoop), slot: slot)
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
