import Foundation

/// One response the gateway made itself with a 4xx or 5xx status (a problem document).
struct GatewayErrorRecord: Sendable, Equatable {
    var at: Date
    var requestID: String
    var route: String
    var method: String
    var path: String
    var status: Int
    var detail: String
}

/// The last `capacity` gateway-made errors, newest last.
struct RecentErrors: Sendable {
    static let capacity = 50
    private(set) var records: [GatewayErrorRecord] = []
    private var next = 0

    mutating func append(_ record: GatewayErrorRecord) {
        if records.count < Self.capacity {
            records.append(record)
        } else {
            records[next] = record
        }
        next = (next + 1) % Self.capacity
    }

    /// Oldest first.
    var ordered: [GatewayErrorRecord] {
        records.count < Self.capacity ? records : Array(records[next...] + records[..<next])
    }
}
