import CCrypt

/// bcrypt verification through the system's libcrypt (libxcrypt: `$2a$`, `$2b$`, `$2y$`). CPU-bound (milliseconds
/// to a second, by cost): never call it on an event loop.
enum Bcrypt {
    static func verify(password: String, hash: String) -> Bool {
        let size = 32768  // sizeof(struct crypt_data)
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { data.deallocate() }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        guard let result = crypt_rn(password, hash, data, Int32(size)) else { return false }
        let computed = String(cString: result)
        return ConstantTime.equal(Array(computed.utf8), Array(hash.utf8))
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
enum ConstantTime {
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
