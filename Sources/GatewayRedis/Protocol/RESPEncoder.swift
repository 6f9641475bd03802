import CHiredis
import NIOCore

/// Encodes commands with hiredis' `redisFormatCommandArgv` (the variadic `redisFormatCommand` does not import
/// into Swift) and appends the bytes to an outgoing buffer. Arguments are binary safe.
enum RESPEncoder {
    static func encode(_ arguments: [String], into out: inout ByteBuffer) throws(RedisError) {
        var total = 0
        for argument in arguments { total += argument.utf8.count }
        try encode(count: arguments.count, totalBytes: total, into: &out) { index, destination in
            let utf8 = arguments[index].utf8
            if let copied = utf8.withContiguousStorageIfAvailable({ source in
                destination.copyMemory(from: UnsafeRawBufferPointer(source))
                return source.count
            }) {
                return copied
            }
            destination.copyBytes(from: utf8)
            return utf8.count
        }
    }

    static func encode(_ arguments: [ByteBuffer], into out: inout ByteBuffer) throws(RedisError) {
        var total = 0
        for argument in arguments { total += argument.readableBytes }
        try encode(count: arguments.count, totalBytes: total, into: &out) { index, destination in
            arguments[index].withUnsafeReadableBytes { source in
                destination.copyMemory(from: source)
                return source.count
            }
        }
    }

    /// Copies all arguments into one scratch area (stack-allocated when small), builds `argv`/`argvlen` and lets
    /// hiredis format the command.
    private static func encode(
        count: Int,
        totalBytes: Int,
        into out: inout ByteBuffer,
        copyArgument: (Int, UnsafeMutableRawBufferPointer) -> Int
    ) throws(RedisError) {
        guard count > 0 else { throw RedisError.protocolError("empty command") }
        guard count <= Int(Int32.max) else { throw RedisError.protocolError("too many arguments") }
        let result: Result<Void, RedisError> = withUnsafeTemporaryAllocation(byteCount: max(totalBytes, 1), alignment: 1) { scratch in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                    var offset = 0
                    for index in 0..<count {
                        let destination = UnsafeMutableRawBufferPointer(rebasing: scratch[offset...])
                        let length = copyArgument(index, destination)
                        argv[index] = UnsafePointer(scratch.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self))
                        lengths[index] = length
                        offset += length
                    }
                    var target: UnsafeMutablePointer<CChar>?
                    let length = redisFormatCommandArgv(&target, Int32(count), argv.baseAddress, lengths.baseAddress)
                    guard length >= 0, let target else { return .failure(RedisError.protocolError("cannot format command")) }
                    defer { redisFreeCommand(target) }
                    out.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
                    return .success(())
                }
            }
        }
        try result.get()
    }
}
