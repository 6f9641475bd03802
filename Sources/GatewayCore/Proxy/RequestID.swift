/// `X-Request-Id` handling (SPEC §3): keep a client's id of 1–200 characters from `A-Za-z0-9._-`, else mint a UUID.
public enum RequestID {
    public static func accept(_ candidate: String?) -> String? {
        guard let candidate, !candidate.isEmpty, candidate.utf8.count <= 200 else { return nil }
        for byte in candidate.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return nil
            }
        }
        return candidate
    }

    /// A random (version 4) UUID in its lower-case text form.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// The same from a caller's generator: each client connection keeps a fast PRNG seeded once from the system, so a
    /// request id costs no system call (ids must be unique, not secret).
    public static func generate<Generator: RandomNumberGenerator>(using generator: inout Generator) -> String {
        let high = ((generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = ((generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            func put(_ value: UInt64, nibbles: Int, from shift: Int) {
                for nibble in 0..<nibbles {
                    let digit = Int((value >> UInt64(shift - 4 * nibble)) & 0xF)
                    buffer[index] = digits.utf8Start[digit]
                    index += 1
                }
            }
            func dash() {
                buffer[index] = UInt8(ascii: "-")
                index += 1
            }
            put(high, nibbles: 8, from: 60)
            dash()
            put(high, nibbles: 4, from: 28)
            dash()
            put(high, nibbles: 4, from: 12)
            dash()
            put(low, nibbles: 4, from: 60)
            dash()
            put(low, nibbles: 12, from: 44)
            return index
        }
    }
}

/// SplitMix64: a small, fast generator for non-secret randomness (request ids).
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
