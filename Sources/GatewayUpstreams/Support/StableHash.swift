/// A hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per process,
/// which would make `ip_hash` and affinity cookies disagree between gateway instances).
///
/// FNV-1a 64 followed by the splitmix64 finalizer, so that similar inputs ("10.0.0.1", "10.0.0.2") spread
/// evenly over the ring.
enum StableHash {
    static func hash(_ string: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in string.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return mix(value)
    }

    static func mix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The affinity cookie value naming a replica: 12 hex digits of the URL's hash (never the URL itself).
    static func affinityValue(for url: String) -> String {
        let hex = String(hash(url) >> 16, radix: 16)
        return String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }
}
