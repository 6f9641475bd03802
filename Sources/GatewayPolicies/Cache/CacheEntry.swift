import NIOCore

/// One stored response (RFC 9111 §3): status, end-to-end headers, body, and what freshness needs (when it was
/// stored, its age then), plus what lookups and purges need (route, path, the Vary names and this variant).
public struct CacheEntry: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var status: Int
    public var headers: [Header]
    public var body: ByteBuffer
    /// Unix seconds when the response was received (`response_time`).
    public var storedAt: Double
    /// `corrected_initial_age` (RFC 9111 §4.2.3) at `storedAt`.
    public var initialAge: Double
    /// Lower-cased, sorted `Vary` field names.
    public var varyNames: [String]
    /// This entry's variant (see ``CacheKey/variant(names:requestHeader:)``).
    public var variant: String
    public var route: String
    public var path: String

    public init(
        status: Int, headers: [Header], body: ByteBuffer, storedAt: Double, initialAge: Double = 0,
        varyNames: [String] = [], variant: String = "", route: String = "", path: String = "/"
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.storedAt = storedAt
        self.initialAge = initialAge
        self.varyNames = varyNames
        self.variant = variant
        self.route = route
        self.path = path
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name }.map(\.value)
    }

    public var cacheControl: CacheControl { CacheControl(headerValues("cache-control")) }
    public var etag: String? { header("etag") }
    public var lastModified: String? { header("last-modified") }
    public var hasValidators: Bool { etag != nil || lastModified != nil }

    /// `current_age` at `now` (RFC 9111 §4.2.3).
    public func age(at now: Double) -> Double { initialAge + max(0, now - storedAt) }

    /// Bytes the entry takes in the memory tier (roughly).
    public var weight: Int {
        body.readableBytes + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }
            + route.utf8.count + path.utf8.count + variant.utf8.count + 128
    }

    /// A 304 from the upstream refreshes the entry (RFC 9111 §4.3.4): its headers replace the stored ones of the
    /// same name (framing fields excepted) and the entry counts as just received.
    public func refreshed(with notModified: [Header], at now: Double, initialAge: Double) -> CacheEntry {
        var copy = self
        let skip: Set<String> = ["content-length", "content-encoding", "transfer-encoding", "content-range"]
        let replacing = Set(notModified.map { $0.name.lowercased() }).subtracting(skip)
        copy.headers.removeAll { replacing.contains($0.name.lowercased()) }
        copy.headers += notModified.filter { replacing.contains($0.name.lowercased()) }
        copy.storedAt = now
        copy.initialAge = initialAge
        return copy
    }
}

/// The binary form stored in Redis: a version byte, then length-prefixed fields. Decoding refuses anything
/// truncated or of another version (nil: treated as a miss, never a crash).
public enum CacheEntryCodec {
    static let version: UInt8 = 1

    public static func encode(_ entry: CacheEntry, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: entry.weight + 64)
        buffer.writeInteger(version)
        buffer.writeInteger(UInt16(clamping: entry.status))
        buffer.writeInteger(entry.storedAt.bitPattern)
        buffer.writeInteger(entry.initialAge.bitPattern)
        writeString(entry.route, to: &buffer)
        writeString(entry.path, to: &buffer)
        writeString(entry.variant, to: &buffer)
        writeString(entry.varyNames.joined(separator: ","), to: &buffer)
        buffer.writeInteger(UInt32(entry.headers.count))
        for header in entry.headers {
            writeString(header.name, to: &buffer)
            writeString(header.value, to: &buffer)
        }
        buffer.writeInteger(UInt32(entry.body.readableBytes))
        var body = entry.body
        buffer.writeBuffer(&body)
        return buffer
    }

    public static func decode(_ input: ByteBuffer) -> CacheEntry? {
        var buffer = input
        guard buffer.readInteger(as: UInt8.self) == version,
            let status = buffer.readInteger(as: UInt16.self),
            let stored = buffer.readInteger(as: UInt64.self),
            let initial = buffer.readInteger(as: UInt64.self),
            let route = readString(&buffer), let path = readString(&buffer), let variant = readString(&buffer),
            let vary = readString(&buffer),
            let count = buffer.readInteger(as: UInt32.self), count <= 10_000
        else { return nil }
        var headers: [CacheEntry.Header] = []
        headers.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let name = readString(&buffer), let value = readString(&buffer) else { return nil }
            headers.append(.init(name, value))
        }
        guard let length = buffer.readInteger(as: UInt32.self), let body = buffer.readSlice(length: Int(length)),
            buffer.readableBytes == 0
        else { return nil }
        return CacheEntry(
            status: Int(status), headers: headers, body: body, storedAt: Double(bitPattern: stored),
            initialAge: Double(bitPattern: initial), varyNames: vary.isEmpty ? [] : vary.split(separator: ",").map(String.init),
            variant: variant, route: route, path: path)
    }

    private static func writeString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(text.utf8.count))
        buffer.writeString(text)
    }

    private static func readString(_ buffer: inout ByteBuffer) -> String? {
        guard let length = buffer.readInteger(as: UInt32.self), length <= UInt32(buffer.readableBytes) else { return nil }
        return buffer.readString(length: Int(length))
    }
}
