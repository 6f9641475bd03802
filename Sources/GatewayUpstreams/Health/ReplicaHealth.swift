import Foundation
import GatewayConfig
import NIOCore

/// The health of one replica: a pure state machine fed with proxy outcomes (passive) and check results
/// (active), and read with an explicit `now`. No I/O, no locks: `GroupState` owns it under the group lock.
///
/// - Passive: `failures` consecutive failed attempts eject the replica for `eject_for`; each ejection that
///   follows closely on the previous one (no full period of good behaviour in between) doubles the period, up
///   to `max_eject_for`. A success resets the consecutive count.
/// - Active: starts healthy (as Envoy does by default, so a fresh gateway does not answer 503 until the first
///   checks complete); `unhealthy_after` failed checks in a row → unhealthy, `healthy_after` passes → healthy.
/// - Both: when an ejection period ends and active checks are configured, the replica stays out until the next
///   passed check.
struct ReplicaHealth: Sendable, Equatable {
    struct Ejection: Sendable, Equatable {
        var until: NIODeadline
    }

    // Active checks.
    private(set) var activeHealthy = true
    private(set) var checkPasses = 0
    private(set) var checkFailures = 0
    private(set) var lastCheck: HealthCheckRecord?

    // Passive checks.
    private(set) var consecutiveFailures = 0
    private(set) var ejection: Ejection?
    /// Ejections in a row; the next one lasts `ejectFor * 2^ejectionLevel` (capped).
    private(set) var ejectionLevel = 0
    private(set) var lastEjectDuration: TimeAmount = .zero
    /// When the replica last came back from an ejection.
    private(set) var backSince: NIODeadline?

    init() {}

    /// The state ignoring draining (which the group knows).
    func state(now: NIODeadline, activeChecks: Bool) -> ReplicaState {
        if let ejection, now < ejection.until || activeChecks { return .ejected }
        if activeChecks && !activeHealthy { return .unhealthy }
        return .healthy
    }

    /// The end of the current ejection, if any (may lie in the past while waiting for an active check).
    var ejectedUntil: NIODeadline? { ejection?.until }

    /// Ends an expired ejection when no active check has to confirm it first.
    mutating func refresh(now: NIODeadline, activeChecks: Bool) {
        if let ejection, now >= ejection.until, !activeChecks {
            self.ejection = nil
            backSince = ejection.until
        }
    }

    /// A proxied attempt ended. `passive == nil` means passive ejection is off (failures are still counted).
    mutating func record(_ outcome: RequestOutcome, now: NIODeadline, passive: PassiveHealthSettings?) {
        guard outcome != .cancelled, ejection == nil else { return }
        if outcome.isFailure {
            consecutiveFailures += 1
            guard let passive, consecutiveFailures >= max(1, passive.failures) else { return }
            eject(now: now, settings: passive)
        } else {
            consecutiveFailures = 0
            if let back = backSince, now - back >= lastEjectDuration {
                ejectionLevel = 0
                backSince = nil
            }
        }
    }

    private mutating func eject(now: NIODeadline, settings: PassiveHealthSettings) {
        if let back = backSince, now - back >= lastEjectDuration {
            ejectionLevel = 0
        }
        let base = TimeAmount(settings.ejectFor)
        let cap = max(base, TimeAmount(settings.maxEjectFor))
        var duration = base
        for _ in 0..<min(ejectionLevel, 62) where duration < cap {
            duration = duration + duration
        }
        duration = min(duration, cap)
        ejectionLevel += 1
        lastEjectDuration = duration
        consecutiveFailures = 0
        backSince = nil
        ejection = Ejection(until: now + duration)
    }

    /// An active check finished.
    mutating func recordCheck(_ record: HealthCheckRecord, now: NIODeadline, settings: HealthCheckSettings) {
        lastCheck = record
        if record.ok {
            checkPasses += 1
            checkFailures = 0
            if !activeHealthy && checkPasses >= max(1, settings.healthyAfter) { activeHealthy = true }
            if let ejection, now >= ejection.until {
                self.ejection = nil
                backSince = now
            }
        } else {
            checkFailures += 1
            checkPasses = 0
            if activeHealthy && checkFailures >= max(1, settings.unhealthyAfter) { activeHealthy = false }
        }
    }

    /// Active checks were turned off by a reload: their verdict no longer applies.
    mutating func activeChecksRemoved() {
        activeHealthy = true
        checkPasses = 0
        checkFailures = 0
    }
}
