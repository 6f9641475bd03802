/// One replica as the balancing algorithms see it: a row of the group state, read and written under the
/// group lock.
struct BalancerMember: Sendable {
    let replica: Replica
    var weight: Int
    var health = ReplicaHealth()
    var inFlight = 0
    /// Smooth weighted round robin's running weight.
    var currentWeight = 0
    var draining = false
    /// Taken out of rotation by an operator (`POST /upstreams/NAME/replicas/N/drain`); unlike `draining` the
    /// replica stays configured and comes back with `undrain`. Kept across reloads while the URL stays.
    var adminDrained = false
    /// Set by `pick` before an algorithm runs: available and not excluded.
    var eligible = false

    init(replica: Replica, weight: Int) {
        self.replica = replica
        self.weight = max(1, weight)
    }

    /// `a` carries less load than `b` relative to their weights (`a.inFlight / a.weight < b.inFlight / b.weight`).
    static func lessLoaded(_ a: BalancerMember, than b: BalancerMember) -> Bool {
        a.inFlight * b.weight < b.inFlight * a.weight
    }
}
