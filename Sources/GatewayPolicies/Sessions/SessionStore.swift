import NIOCore

/// Where sessions live: Redis (shared by all instances) or memory (one instance).
///
/// All methods may be called from any event loop and complete on the loop passed in. Store failures fail
/// the future with ``SessionStoreUnavailable``.
public protocol SessionStore: Sendable {
    /// Creates a session holding `data` (a compact JSON object) and returns its new id.
    func create(data: String, user: String?, on eventLoop: any EventLoop) -> EventLoopFuture<String>
    /// The session, or nil when unknown or expired. Slides the idle timeout (throttled).
    func lookup(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Session?>
    /// Ends one session; true when it existed.
    func delete(id: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>
    /// Ends every session of `user`; returns how many were ended.
    func deleteAll(user: String, on eventLoop: any EventLoop) -> EventLoopFuture<Int>
}

extension SessionStore {
    /// Issues a session and drops the client's previous one (no fixation): delete `oldID`, then create.
    public func rotate(oldID: String?, data: String, user: String?, on eventLoop: any EventLoop) -> EventLoopFuture<String> {
        guard let oldID else { return create(data: data, user: user, on: eventLoop) }
        return delete(id: oldID, on: eventLoop).flatMap { _ in
            self.create(data: data, user: user, on: eventLoop)
        }
    }
}
