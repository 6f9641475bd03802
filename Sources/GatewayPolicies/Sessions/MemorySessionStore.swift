import NIOConcurrencyHelpers
import NIOCore

/// Sessions in process memory, for single-instance deployments without Redis. Same rules as the Redis
/// store (``SessionExpiry``); expired entries are dropped on lookup and swept periodically.
public final class MemorySessionStore: SessionStore {
    private struct Entry {
        var data: String
        var user: String?
        var createdAt: Int64
        var lastRefresh: Int64
    }

    private struct State {
        var sessions: [String: Entry] = [:]
        var byUser: [String: Set<String>] = [:]
        var operationsSinceSweep = 0

        mutating func remove(_ id: String) -> Bool {
            guard let entry = sessions.removeValue(forKey: id) else { return false }
            if let user = entry.user {
                byUser[user]?.remove(id)
                if byUser[user]?.isEmpty == true { byUser[user] = nil }
            }
            return true
        }
    }

    private let state = NIOLockedValueBox(State())
    private let expiry: SessionExpiry
    private let clock: PolicyClock
    private let sweepInterval = 1024

    public init(expiry: SessionExpiry, clock: PolicyClock = .wall) {
        self.expiry = expiry
        self.clock = clock
    }

    private var nowMilliseconds: Int64 { clock.nowMicroseconds() / 1_000 }

    public func create(data: String, user: String?, on eventLoop: any EventLoop) -> EventLoopFuture<String> {
        let id = SessionCookieCodec.newSessionID()
        let now = nowMilliseconds
        state.withLockedValue { state in
            sweepIfDue(&state, now: now)
            state.sessions[id] = Entry(data: data, user: user, createdAt: now, lastRefresh: now)
            if let user { state.byUser[user, default: []].insert(id) }
        }
        return eventLoop.makeSucceededFuture(id)
    }

    public func lookup(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let now = nowMilliseconds
        let session: Session? = state.withLockedValue { state in
            guard var entry = state.sessions[id] else { return nil }
            if expiry.isExpired(now: now, createdAt: entry.createdAt, lastRefresh: entry.lastRefresh) {
                _ = state.remove(id)
                return nil
            }
            if expiry.shouldRefresh(now: now, lastRefresh: entry.lastRefresh) {
                entry.lastRefresh = now
                state.sessions[id] = entry
            }
            return Session(id: id, data: entry.data, user: entry.user, createdAt: entry.createdAt, lastSeen: entry.lastRefresh)
        }
        return eventLoop.makeSucceededFuture(session)
    }

    public func delete(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        eventLoop.makeSucceededFuture(state.withLockedValue { $0.remove(id) })
    }

    public func deleteAll(user: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let count = state.withLockedValue { state -> Int in
            let ids = state.byUser[user] ?? []
            return ids.reduce(0) { $0 + (state.remove($1) ? 1 : 0) }
        }
        return eventLoop.makeSucceededFuture(count)
    }

    /// Live entries (including expired ones not yet swept), for tests.
    public var count: Int { state.withLockedValue { $0.sessions.count } }

    private func sweepIfDue(_ state: inout State, now: Int64) {
        state.operationsSinceSweep += 1
        guard state.operationsSinceSweep >= sweepInterval else { return }
        state.operationsSinceSweep = 0
        let expired = state.sessions.filter {
            expiry.isExpired(now: now, createdAt: $0.value.createdAt, lastRefresh: $0.value.lastRefresh)
        }
        for id in expired.keys { _ = state.remove(id) }
    }
}
