import Foundation
import GatewayTLS
import NIOConcurrencyHelpers
import NIOCore

/// The check loop of one replica, pinned to one event loop: check, record, wait `interval` ± 10%, repeat.
/// The next check is only scheduled when the previous one finished, so at most one is in flight.
final class HealthCheckJob: Sendable {
    struct State: Sendable {
        var interval: TimeAmount
        var stopped = false
        var scheduled: Scheduled<Void>?
        var running: EventLoopFuture<Void>?
    }

    let replica: Replica
    let group: UpstreamGroup
    let eventLoop: any EventLoop
    private let state: NIOLockedValueBox<State>

    init(replica: Replica, group: UpstreamGroup, interval: TimeAmount, eventLoop: any EventLoop) {
        self.replica = replica
        self.group = group
        self.eventLoop = eventLoop
        self.state = NIOLockedValueBox(State(interval: interval))
    }

    var interval: TimeAmount { state.withLockedValue { $0.interval } }

    /// The first check comes soon (within 10% of the interval) so that state is known early.
    func start() {
        let interval = self.interval
        schedule(after: .nanoseconds(Int64.random(in: 0...max(1, interval.nanoseconds / 10))))
    }

    /// A reload changed the interval: takes effect now, not after the old interval. Runs on the job's event
    /// loop, where `fire()` and its completion run too, so the loop never forks into two.
    func update(interval: TimeAmount) {
        eventLoop.execute { [self] in
            state.withLockedValue { state in
                guard !state.stopped, state.interval != interval else { return }
                state.interval = interval
                guard state.running == nil else { return }  // the running check schedules the next one
                state.scheduled?.cancel()
                state.scheduled = eventLoop.scheduleTask(in: Self.jittered(interval)) { [self] in fire() }
            }
        }
    }

    /// Stops the loop; returns the check in flight, if any, to wait for.
    func stop() -> EventLoopFuture<Void>? {
        state.withLockedValue { state in
            state.stopped = true
            state.scheduled?.cancel()
            state.scheduled = nil
            return state.running
        }
    }

    private func schedule(after delay: TimeAmount) {
        state.withLockedValue { state in
            guard !state.stopped else { return }
            state.scheduled = eventLoop.scheduleTask(in: delay) { [self] in fire() }
        }
    }

    private func fire() {
        guard let settings = group.healthCheck else { return }
        let promise = eventLoop.makePromise(of: Void.self)
        let proceed = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }
            state.scheduled = nil
            state.running = promise.futureResult
            return true
        }
        guard proceed else {
            promise.succeed()
            return
        }
        HealthProbe.run(
            host: replica.host, port: replica.port, path: settings.path, timeout: TimeAmount(settings.timeout),
            tls: UpstreamTLSRegistry.shared.context(upstream: group.name, replica: replica.url), on: eventLoop
        ).map { [replica] result in
            replica.recordHealthCheck(HealthCheckRecord(at: Date(), ok: result.ok, status: result.status, error: result.error))
        }.cascade(to: promise)
        let done = promise.futureResult
        done.whenComplete { [self] _ in
            let interval = state.withLockedValue { state -> TimeAmount in
                state.running = nil
                return state.interval
            }
            schedule(after: Self.jittered(interval))
        }
    }

    /// `interval` ± 10%, so that checks of many replicas (and gateways) do not line up.
    static func jittered(_ interval: TimeAmount) -> TimeAmount {
        let spread = interval.nanoseconds / 10
        guard spread > 0 else { return interval }
        return .nanoseconds(interval.nanoseconds + Int64.random(in: -spread...spread))
    }
}
