/// The switch from history to live for one subscription of a history channel (SPEC §9), as a pure state machine.
///
/// The socket subscribes to the live feed FIRST and buffers what arrives, then reads the history after the client's
/// offset, then hands out: the history, then the buffered live items newer than the last one handed out. Because a
/// publish appends to the history and publishes in one atomic step, every offset is either in the read (≤ its
/// position) or arrives live afterwards (> position): no gap. Anything at or below the last offset handed out is a
/// duplicate and is dropped, also later on (a live item delayed behind the read). An item with another epoch means the
/// stream was lost and restarted: it is handed out and the count restarts from it.
///
/// ```swift
/// var merge = RecoveryMerge<Frame>(since: StreamPosition(offset: 41, epoch: "E"))
/// _ = merge.receive(frame, offset: 43, epoch: "E")        // .buffered
/// let outcome = merge.historyRead(read)                   // recovered, history frames then buffered frame 43
/// ```
struct RecoveryMerge<Item> {
    /// What to do with a live item.
    enum Action {
        /// Hand it out now.
        case deliver(Item)
        /// Kept until the history read completes.
        case buffered
        /// Already handed out (or older than the position the client was given).
        case duplicate
        /// Offsets between the last one handed out and this one never arrived live (e.g. the store's subscription
        /// connection was re-established meanwhile). The item is buffered and the merge waits again: read the
        /// history after `missingAfter` and call `historyRead` (its `recovered` says whether the gap was filled).
        case gap(missingAfter: StreamPosition)
    }

    struct Outcome {
        /// nil when no recovery was asked for.
        var recovered: Bool?
        var position: StreamPosition
        /// History entries (as the caller's items) followed by buffered live items, in order, without duplicates.
        var items: [Item]
    }

    private enum State {
        case waiting(buffer: [(Item, UInt64?, String?)])
        case live(epoch: String, last: UInt64)
        /// No history to merge with (its read failed): items pass as they come.
        case passthrough
    }

    private var state: State = .waiting(buffer: [])
    private(set) var since: StreamPosition?

    init(since: StreamPosition?) {
        self.since = since
    }

    var isWaiting: Bool {
        if case .waiting = state { return true }
        return false
    }

    /// The last position handed out (nil while waiting).
    var position: StreamPosition? {
        if case .live(let epoch, let last) = state { return StreamPosition(offset: last, epoch: epoch) }
        return nil
    }

    /// A live item. Items without an offset (published around the history, e.g. raw Redis PUBLISH) pass as they come.
    mutating func receive(_ item: Item, offset: UInt64?, epoch: String?) -> Action {
        switch state {
        case .waiting(var buffer):
            state = .live(epoch: "", last: 0)  // (keeps `buffer` uniquely referenced)
            buffer.append((item, offset, epoch))
            state = .waiting(buffer: buffer)
            return .buffered
        case .passthrough:
            return .deliver(item)
        case .live(let current, let last):
            guard let offset, let epoch else { return .deliver(item) }
            if epoch != current {
                state = .live(epoch: epoch, last: offset)
                return .deliver(item)
            }
            guard offset > last else { return .duplicate }
            if offset > last + 1 {
                let missing = StreamPosition(offset: last, epoch: epoch)
                since = missing
                state = .waiting(buffer: [(item, offset, epoch)])
                return .gap(missingAfter: missing)
            }
            state = .live(epoch: epoch, last: offset)
            return .deliver(item)
        }
    }

    /// Gives up on the history (the read failed): returns what was buffered, and passes everything from now on.
    mutating func abandon() -> [Item] {
        var items: [Item] = []
        if case .waiting(let buffer) = state { items = buffer.map(\.0) }
        state = .passthrough
        return items
    }

    /// The history read completed. `entries` must be the read's entries as the caller's items, in the read's order.
    mutating func historyRead(_ read: HistoryRead, entries: [Item]) -> Outcome {
        let position = read.position
        var recovered: Bool? = nil
        var items: [Item] = []
        var last = position.offset
        if let since {
            let missed = position.offset >= since.offset ? position.offset - since.offset : 0
            let contiguous =
                read.entries.count == Int(clamping: missed)
                && (read.entries.first.map { $0.offset == since.offset + 1 } ?? true)
                && read.entries.last.map({ $0.offset == position.offset }) ?? true
            let ok = since.epoch == position.epoch && since.offset <= position.offset && contiguous
            recovered = ok
            if ok { items = entries }
            last = position.offset
        }
        var epoch = position.epoch
        if case .waiting(let buffer) = state {
            for (item, offset, itemEpoch) in buffer {
                guard let offset, let itemEpoch else {
                    items.append(item)
                    continue
                }
                if itemEpoch != epoch {
                    epoch = itemEpoch
                    last = offset
                    items.append(item)
                } else if offset > last {
                    last = offset
                    items.append(item)
                }
            }
        }
        state = .live(epoch: epoch, last: last)
        return Outcome(recovered: recovered, position: position, items: items)
    }
}
