import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore

@testable import GatewayUpstreams

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let nanos = NIOLockedValueBox<UInt64>(1_000_000_000_000)
    static let wallBase = Date(timeIntervalSince1970: 1_795_000_000)

    var now: NIODeadline { .uptimeNanoseconds(nanos.withLockedValue { $0 }) }

    func advance(_ amount: TimeAmount) {
        nanos.withLockedValue { $0 += UInt64(amount.nanoseconds) }
    }

    var clock: UpstreamClock {
        UpstreamClock(
            now: { self.now },
            wallNow: { Self.wallBase.addingTimeInterval(Double(self.nanos.withLockedValue { $0 } - 1_000_000_000_000) / 1e9) }
        )
    }
}

func replicaSettings(_ port: Int, weight: Int = 1) -> ReplicaSettings {
    ReplicaSettings(url: "http://127.0.0.1:\(port)", host: "127.0.0.1", port: port, weight: weight)
}

func upstream(
    _ name: String = "app",
    balance: BalanceStrategy = .roundRobin,
    ports: [Int],
    weights: [Int]? = nil,
    health: HealthCheckSettings? = nil,
    passive: PassiveHealthSettings? = PassiveHealthSettings()
) -> UpstreamSettings {
    var settings = UpstreamSettings(name: name)
    settings.balance = balance
    settings.replicas = ports.enumerated().map { replicaSettings($1, weight: weights?[$0] ?? 1) }
    settings.health = health
    settings.passive = passive
    return settings
}

let anyClient = BalancerContext(clientIP: "10.0.0.1")

extension UpstreamGroup {
    /// Picks `count` times and returns the chosen ports.
    func ports(_ count: Int, context: BalancerContext = anyClient) -> [Int] {
        (0..<count).compactMap { _ in pick(context)?.replica.port }
    }

    func replica(port: Int) -> Replica {
        replicas.first { $0.port == port }!
    }
}
