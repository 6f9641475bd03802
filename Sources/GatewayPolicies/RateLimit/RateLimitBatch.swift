import GatewayRedis
import NIOCore

/// The rate-limit checks issued on one event loop during one tick, sent to Redis as a single `EVALSHA`.
///
/// The first check of a tick schedules a flush with `execute`, which NIO runs after the I/O events of the
/// current wake-up: every request parsed in that wake-up joins the same script call. One call instead of
/// one per request saves Redis most of its per-call cost (command dispatch, `TIME`, Lua entry) and the
/// gateway a reply tree, a promise chain and an argument array per request.
///
/// Not thread-safe: used only on `eventLoop` (``RedisRateLimiter`` guarantees it).
final class RateLimitBatch: @unchecked Sendable {
    private struct Entry {
        var requests: [RateLimitRequest]
        var parameters: [GCRAParameters]
        var promise: EventLoopPromise<[Int64]>
    }

    private let client: RedisClient
    private let script: RedisScript
    private let eventLoop: any EventLoop
    private let maximumSize: Int
    private var entries: [Entry] = []
    private var keys: [String] = []
    /// Everything after ARGV[1] (the request count, known at flush).
    private var arguments: [String] = []
    private var flushScheduled = false
    /// Script calls sent so far (tests check that a tick's checks share one).
    private(set) var scriptCalls = 0

    init(client: RedisClient, script: RedisScript, eventLoop: any EventLoop, maximumSize: Int) {
        self.client = client
        self.script = script
        self.eventLoop = eventLoop
        self.maximumSize = maximumSize
    }

    /// Adds one request's limits; the future carries each limit's occupancy before the request (µs), from
    /// which ``RedisRateLimiter`` derives the verdict (the script charged all of them or none).
    func enqueue(requests: [RateLimitRequest], parameters: [GCRAParameters]) -> EventLoopFuture<[Int64]> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: [Int64].self)
        entries.append(Entry(requests: requests, parameters: parameters, promise: promise))
        arguments.append(String(requests.count))
        for (request, parameter) in zip(requests, parameters) {
            keys.append(request.key)
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
        let keys = self.keys
        let arguments = [String(entries.count)] + self.arguments
        self.entries.removeAll(keepingCapacity: true)
        self.keys.removeAll(keepingCapacity: true)
        self.arguments.removeAll(keepingCapacity: true)
        scriptCalls += 1

        client.evaluate(script, keys: keys, arguments: arguments, on: eventLoop).whenComplete { result in
            switch result {
            case .success(let reply):
                guard let occupancies = Self.occupancies(reply, count: keys.count) else {
                    let error = RedisError.protocolError("rate-limit script returned \(reply)")
                    for entry in entries { entry.promise.fail(error) }
                    return
                }
                var start = 0
                for entry in entries {
                    let count = entry.requests.count
                    entry.promise.succeed(Array(occupancies[start..<start + count]))
                    start += count
                }
            case .failure(let error):
                for entry in entries { entry.promise.fail(error) }
            }
        }
    }

    private static func occupancies(_ reply: RESPValue, count: Int) -> [Int64]? {
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
