/// A tiny seedable generator: `random_two` draws from it under the group lock, and tests seed it so that
/// sequences are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// Seeded from the system generator.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        defer { state &+= 0x9e37_79b9_7f4a_7c15 }
        return StableHash.mix(state)  // `mix` adds the golden gamma itself: this is splitmix64's output step
    }
}
