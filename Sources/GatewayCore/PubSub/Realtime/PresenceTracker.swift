import CoreMetrics
import GatewayRedis
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Presence (SPEC §9): who is subscribed to a presence channel, across instances.
///
/// Redis: one sorted set per channel (`HistoryKeys.presence`, same slot as the channel), member = the entry's JSON
/// `{"user":…,"client":…}`, score = when it expires (wall-clock ms). Each instance re-adds its own entries every
/// `heartbeat` with a fresh expiry of `entryLifetime`, and readers only take unexpired members, so the entries of a
/// crashed instance vanish within `entryLifetime` (25 s < the 30 s promised) without anyone cleaning up after it.
/// Joins and leaves are also published on the channel (`{"presence":"join",…}`) so other subscribers get frames.
/// Memory: the local entries are the whole truth.
final class PresenceTracker: Sendable {
    static let heartbeat: TimeAmount = .seconds(10)
    static let entryLifetimeMilliseconds: Int64 = 25_000

    private struct State {
        /// channel → member → route (for the gauge).
        var channels: [String: [PresenceMember: String]] = [:]
        var perRoute: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let client: RedisClient?
    private let redisChannel: @Sendable (String) -> String
    private let heartbeatTask: NIOLockedValueBox<RepeatedTask?> = NIOLockedValueBox(nil)

    init(client: RedisClient?, redisChannel: @escaping @Sendable (String) -> String) {
        self.client = client
        self.redisChannel = redisChannel
    }

    /// Starts the Redis heartbeat (no-op in memory).
    func start(on eventLoop: any EventLoop) {
        guard client != nil else { return }
        let task = eventLoop.scheduleRepeatedTask(initialDelay: Self.heartbeat, delay: Self.heartbeat) { [self] _ in
            refreshAll(on: eventLoop)
        }
        heartbeatTask.withLockedValue { $0 = task }
    }

    func stop() {
        heartbeatTask.withLockedValue {
            $0?.cancel()
            $0 = nil
        }
    }

    /// Adds `member`; the returned future completes when the store has it (Redis) and the join was published.
    func join(
        _ channel: String, _ member: PresenceMember, route: String, on eventLoop: any EventLoop,
        announce: @escaping @Sendable (RealtimePayload.PresenceEvent) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<Void> {
        let added = state.withLockedValue { state -> Bool in
            guard state.channels[channel]?[member] == nil else { return false }
            state.channels[channel, default: [:]][member] = route
            state.perRoute[route, default: 0] += 1
            Self.gauge(route).record(state.perRoute[route]!)
            return true
        }
        guard added else { return eventLoop.makeSucceededVoidFuture() }
        guard let client else { return announce(.join) }
        let key = HistoryKeys(redisChannel: redisChannel(channel)).presence
        let expiry = Self.wallClockMilliseconds() + Self.entryLifetimeMilliseconds
        let add = client.send(["ZADD", key, String(expiry), member.json], on: eventLoop)
        _ = client.send(["PEXPIRE", key, String(Self.entryLifetimeMilliseconds * 2)], on: eventLoop)
        return add.flatMap { _ in announce(.join) }
    }

    func leave(
        _ channel: String, _ member: PresenceMember, on eventLoop: any EventLoop,
        announce: @escaping @Sendable (RealtimePayload.PresenceEvent) -> EventLoopFuture<Void>
    ) {
        let removed = state.withLockedValue { state -> Bool in
            guard let route = state.channels[channel]?.removeValue(forKey: member) else { return false }
            if state.channels[channel]?.isEmpty == true { state.channels[channel] = nil }
            state.perRoute[route, default: 1] -= 1
            Self.gauge(route).record(state.perRoute[route]!)
            return true
        }
        guard removed else { return }
        if let client {
            let key = HistoryKeys(redisChannel: redisChannel(channel)).presence
            _ = client.send(["ZREM", key, member.json], on: eventLoop)
        }
        _ = announce(.leave)
    }

    /// The entries of `channel` as JSON objects (all instances; unexpired).
    func members(_ channel: String, on eventLoop: any EventLoop) -> EventLoopFuture<[String]> {
        guard let client else {
            let local = state.withLockedValue { $0.channels[channel].map { Array($0.keys) } ?? [] }
            return eventLoop.makeSucceededFuture(local.map(\.json).sorted())
        }
        let key = HistoryKeys(redisChannel: redisChannel(channel)).presence
        let now = String(Self.wallClockMilliseconds())
        // Presence is eventually consistent anyway (heartbeats, 25 s expiry): a replica's answer may lag a join
        // by the replication delay, so this read may go to a Cluster replica (`read_from_replicas`).
        return client.read(["ZRANGEBYSCORE", key, now, "+inf"], on: eventLoop).map { reply in
            (reply.array ?? []).compactMap(\.string)
        }
    }

    /// Local entries (tests, metrics).
    func localCount(_ channel: String) -> Int {
        state.withLockedValue { $0.channels[channel]?.count ?? 0 }
    }

    /// Re-adds every local entry with a fresh expiry and drops expired ones (one ZADD per channel).
    private func refreshAll(on eventLoop: any EventLoop) {
        guard let client else { return }
        let snapshot = state.withLockedValue { $0.channels.mapValues { Array($0.keys) } }
        let now = Self.wallClockMilliseconds()
        let score = String(now + Self.entryLifetimeMilliseconds)
        for (channel, members) in snapshot where !members.isEmpty {
            let key = HistoryKeys(redisChannel: redisChannel(channel)).presence
            var command = ["ZADD", key]
            command.reserveCapacity(2 + members.count * 2)
            for member in members {
                command.append(score)
                command.append(member.json)
            }
            _ = client.send(command, on: eventLoop)
            _ = client.send(["ZREMRANGEBYSCORE", key, "-inf", String(now)], on: eventLoop)
            _ = client.send(["PEXPIRE", key, String(Self.entryLifetimeMilliseconds * 2)], on: eventLoop)
        }
    }

    private static func gauge(_ route: String) -> Gauge {
        Gauge(label: "gateway_presence_clients", dimensions: [("route", route)])
    }

    static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
