import GatewayRedis
import NIOCore

/// Redis Cluster: the rate-limit checks issued on one event loop during one tick whose keys live on one primary
/// (per the current slot map), sent to that node as a single script call, whatever their slots.
///
/// Why per node and not per slot: with keys spread over 16384 slots a per-slot batch holds ~1 request, so every
/// decision pays a whole script call (dispatch, Lua entry, `TIME`) in Redis and a command, reply tree and promise
/// chain in the gateway. Grouping by node packs as many decisions per call as one Redis gets, divided by the number
/// of primaries.
///
/// How it stays exact: the script (``script``, flagged `allow-cross-slot-keys`) declares no keys; Redis still
/// checks every key the script touches against the node's slots, and answers a key this node does not serve (slot
/// moved, or migrating away and the key already gone) with an error. The script reads each key with `redis.pcall`
/// **before** writing anything for its request, so such a request is neither decided nor charged: it comes back
/// marked (occupancies of −1) and ``RedisRateLimiter`` sends it through the per-slot path, which follows
/// `MOVED`/`ASK`. A migrating key is therefore never read as absent, so no budget can be over-admitted.
///
/// Not thread-safe: used only on `eventLoop`.
final class ClusterNodeRateLimitBatch: @unchecked Sendable {
    /// ARGV = `R, n₁, key T τ …(n₁ triples), n₂, …`. Returns each key's occupancy before its request (µs) or −1 for
    /// every key of a request with a key this node does not serve (that request is untouched). Same GCRA, caching
    /// and write-once rules as ``RedisRateLimiter/script``.
    static let script = RedisScript(
        """
        #!lua flags=allow-cross-slot-keys
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tats, written, occupancy = {}, {}, {}
        local o, a = 0, 2
        for r = 1, tonumber(ARGV[1]) do
          local n = tonumber(ARGV[a])
          a = a + 1
          local admit, here = true, true
          for i = 1, n do
            local key = ARGV[a + 3 * i - 3]
            local tat = tats[key]
            if tat == nil then
              local value = redis.pcall('GET', key)
              if type(value) == 'table' and value.err then
                here = false
                break
              end
              tat = tonumber(value or now) or now
              tats[key] = tat
            end
            local used = tat - now
            if used < 0 then used = 0 end
            occupancy[o + i] = used
            if used + tonumber(ARGV[a + 3 * i - 2]) > tonumber(ARGV[a + 3 * i - 1]) then admit = false end
          end
          if not here then
            for i = 1, n do occupancy[o + i] = -1 end
          elseif admit then
            for i = 1, n do
              local key = ARGV[a + 3 * i - 3]
              tats[key] = now + occupancy[o + i] + tonumber(ARGV[a + 3 * i - 2])
              written[key] = true
            end
          end
          o = o + n
          a = a + 3 * n
        end
        for key in pairs(written) do
          local after = tats[key] - now
          redis.call('SET', key, string.format('%d', tats[key]), 'PX', math.floor(after / 1000) + 1)
        end
        return occupancy
        """)

    private struct Entry {
        var count: Int
        var promise: EventLoopPromise<[Int64]>
    }

    private let client: RedisClient
    private let node: String
    private let eventLoop: any EventLoop
    private let maximumSize: Int
    private var entries: [Entry] = []
    private var keyCount = 0
    /// Everything after ARGV[1] (the request count, known at flush).
    private var arguments: [String] = []
    private var flushScheduled = false
    /// Script calls sent so far (tests check that a tick's checks share one).
    private(set) var scriptCalls = 0

    init(client: RedisClient, node: String, eventLoop: any EventLoop, maximumSize: Int) {
        self.client = client
        self.node = node
        self.eventLoop = eventLoop
        self.maximumSize = maximumSize
    }

    /// Adds one request's limits (all keys on this batch's node per the slot map); the future carries each limit's
    /// occupancy before the request (µs), or −1 for each when the node did not serve one of the keys.
    func enqueue(requests: [RateLimitRequest], parameters: [GCRAParameters]) -> EventLoopFuture<[Int64]> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: [Int64].self)
        entries.append(Entry(count: requests.count, promise: promise))
        keyCount += requests.count
        arguments.append(String(requests.count))
        for (request, parameter) in zip(requests, parameters) {
            arguments.append(request.key)
            arguments.append(String(parameter.emissionInterval))
            arguments.append(String(parameter.tolerance))
        }
        if entries.count >= maximumSize {
            flush()
        } else if !flushScheduled {
            flushScheduled = true
            eventLoop.execute { self.flush() }
        }
        return promise.futureResult
    }

    private func flush() {
        flushScheduled = false
        guard !entries.isEmpty else { return }
        let entries = self.entries
        let count = keyCount
        let arguments = [String(entries.count)] + self.arguments
        self.entries.removeAll(keepingCapacity: true)
        self.arguments.removeAll(keepingCapacity: true)
        keyCount = 0
        scriptCalls += 1

        client.evaluate(Self.script, arguments: arguments, onClusterNode: node, on: eventLoop).whenComplete { result in
            switch result {
            case .success(let reply):
                guard let occupancies = Self.occupancies(reply, count: count) else {
                    let error = RedisError.protocolError("rate-limit script returned \(reply)")
                    for entry in entries { entry.promise.fail(error) }
                    return
                }
                var start = 0
                for entry in entries {
                    entry.promise.succeed(Array(occupancies[start..<start + entry.count]))
                    start += entry.count
                }
            case .failure(let error):
                for entry in entries { entry.promise.fail(error) }
            }
        }
    }

    static func occupancies(_ reply: RESPValue, count: Int) -> [Int64]? {
        guard let items = reply.array, items.count == count else { return nil }
        var values: [Int64] = []
        values.reserveCapacity(count)
        for item in items {
            guard let value = item.int else { return nil }
            values.append(Int64(value))
        }
        return values
    }
}
