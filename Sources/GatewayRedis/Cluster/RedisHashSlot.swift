/// Redis Cluster's key → hash slot function: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the key, or of
/// its hash tag, modulo 16384. The hash tag is the text between the first `{` and the next `}` when that text
/// is not empty (`{user1000}.following` → `user1000`; `foo{}{bar}` hashes the whole key; `foo{{bar}}` → `{bar`).
/// Keys sharing a tag land in one slot, which is what lets a Lua script touch several of them.
public enum RedisHashSlot {
    public static let count = 16384

    public static func slot(for key: String) -> Int {
        var key = key
        return key.withUTF8 { slot(forBytes: $0) }
    }

    public static func slot(forBytes key: UnsafeBufferPointer<UInt8>) -> Int {
        let tagged = hashTagRange(key) ?? key.indices
        var crc: UInt16 = 0
        for index in tagged {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ key[index])]
        }
        return Int(crc) & (count - 1)
    }

    /// The bytes between the first `{` and the following `}`, when non-empty.
    static func hashTagRange(_ key: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return nil }
        guard let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return nil }
        return (open + 1)..<close
    }

    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
