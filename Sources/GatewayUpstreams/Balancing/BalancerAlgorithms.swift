/// The selection strategies, as pure functions over the group's members. Each returns the position of the
/// chosen member among `members`, considering only `eligible` ones, or nil when none is.
enum BalancerAlgorithms {
    /// nginx's smooth weighted round robin: every pick adds each candidate's weight to its running weight,
    /// takes the largest (first on ties) and subtracts the total from it. Weights 5,1,1 give `a a b a c a a`;
    /// over any `sum(weights)` consecutive picks each replica gets exactly its weight.
    static func smoothWeightedRoundRobin(_ members: inout [BalancerMember]) -> Int? {
        var total = 0
        var best = -1
        for index in members.indices where members[index].eligible {
            members[index].currentWeight += members[index].weight
            total += members[index].weight
            if best < 0 || members[index].currentWeight > members[best].currentWeight { best = index }
        }
        guard best >= 0 else { return nil }
        members[best].currentWeight -= total
        return best
    }

    /// Fewest in-flight requests relative to weight; ties go round robin (the scan starts one further each
    /// time), so idle replicas share the load instead of the first one taking it all.
    static func leastConnections(_ members: inout [BalancerMember], cursor: inout Int) -> Int? {
        let count = members.count
        guard count > 0 else { return nil }
        let start = cursor % count
        cursor = (cursor &+ 1) & Int.max
        var best = -1
        for step in 0..<count {
            let index = (start + step) % count
            guard members[index].eligible else { continue }
            if best < 0 || BalancerMember.lessLoaded(members[index], than: members[best]) { best = index }
        }
        return best >= 0 ? best : nil
    }

    /// Power of two choices: two distinct eligible members at random, the less loaded (relative to weight)
    /// wins. Avoids herding onto one replica the way a global least-connections scan can.
    static func randomTwo(_ members: inout [BalancerMember], using rng: inout SplitMix64) -> Int? {
        var eligibleCount = 0
        for member in members where member.eligible { eligibleCount += 1 }
        guard eligibleCount > 0 else { return nil }
        let first = Int.random(in: 0..<eligibleCount, using: &rng)
        guard eligibleCount > 1 else { return position(ofEligible: first, in: members) }
        var second = Int.random(in: 0..<(eligibleCount - 1), using: &rng)
        if second >= first { second += 1 }
        let a = position(ofEligible: first, in: members)
        let b = position(ofEligible: second, in: members)
        return BalancerMember.lessLoaded(members[b], than: members[a]) ? b : a
    }

    private static func position(ofEligible rank: Int, in members: [BalancerMember]) -> Int {
        var seen = 0
        for index in members.indices where members[index].eligible {
            if seen == rank { return index }
            seen += 1
        }
        preconditionFailure("rank \(rank) out of range")
    }

    /// Consistent hashing of the client IP (`ip_hash`): the first eligible member clockwise on the ring.
    static func consistentHash(_ members: inout [BalancerMember], ring: HashRing, key: String) -> Int? {
        ring.lookup(StableHash.hash(key)) { id in
            members.firstIndex { $0.replica.index == id && $0.eligible }
        }
    }

    /// Sticky sessions (`cookie`): the member the cookie names if it is eligible, else round robin.
    /// Returns the position and the cookie value to set (nil when the request's cookie already fits).
    static func cookieAffinity(_ members: inout [BalancerMember], cookie: String?) -> (Int, String?)? {
        if let cookie, let index = members.firstIndex(where: { $0.eligible && $0.replica.affinityValue == cookie }) {
            return (index, nil)
        }
        guard let index = smoothWeightedRoundRobin(&members) else { return nil }
        return (index, members[index].replica.affinityValue)
    }
}
