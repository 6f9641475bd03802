import NIOCore
import GatewayRedis
import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

@testable import GatewayCore
@testable import GatewayConfig

/// The pure parts of SPEC §9: the recovery merge, frames and payloads, SSE encoding, keys, budgets, memory history.
@Suite struct RecoveryMergeTests {
    typealias Merge = RecoveryMerge<UInt64>

    func read(_ offsets: ClosedRange<UInt64>?, top: UInt64, epoch: String = "E") -> HistoryRead {
        HistoryRead(
            position: StreamPosition(offset: top, epoch: epoch),
            entries: (offsets.map(Array.init) ?? []).map { HistoryEntry(offset: $0, data: ByteBuffer(string: "\($0)")) })
    }

    @Test func historyThenBufferedLiveWithoutDuplicates() {
        var merge = Merge(since: StreamPosition(offset: 3, epoch: "E"))
        // Subscribed at 5; messages 6, 7 arrive live before the read (which sees up to 7), 8 after.
        for offset: UInt64 in [6, 7] {
            guard case .buffered = merge.receive(offset, offset: offset, epoch: "E") else {
                Issue.record("not buffered")
                return
            }
        }
        let outcome = merge.historyRead(read(4...7, top: 7), entries: [4, 5, 6, 7])
        #expect(outcome.recovered == true && outcome.items == [4, 5, 6, 7])
        guard case .duplicate = merge.receive(7, offset: 7, epoch: "E") else {
            Issue.record("late 7 must be a duplicate")
            return
        }
        guard case .deliver(8) = merge.receive(8, offset: 8, epoch: "E") else {
            Issue.record("8 must pass")
            return
        }
        #expect(merge.position == StreamPosition(offset: 8, epoch: "E"))
    }

    @Test func recoveryFailsOnEpochChangeAndTrimmedHistory() {
        var other = Merge(since: StreamPosition(offset: 3, epoch: "OLD"))
        let changed = other.historyRead(read(1...2, top: 2, epoch: "NEW"), entries: [1, 2])
        #expect(changed.recovered == false && changed.items.isEmpty && changed.position.epoch == "NEW")

        var trimmed = Merge(since: StreamPosition(offset: 3, epoch: "E"))
        _ = trimmed.receive(11, offset: 11, epoch: "E")
        let outcome = trimmed.historyRead(read(6...10, top: 10), entries: [6, 7, 8, 9, 10])
        #expect(outcome.recovered == false && outcome.items == [11], "only what follows the position given")

        var future = Merge(since: StreamPosition(offset: 30, epoch: "E"))
        #expect(future.historyRead(read(nil, top: 10), entries: []).recovered == false)
    }

    @Test func plainSubscribeReportsThePositionAndDropsOlderLiveItems() {
        var merge = Merge(since: nil)
        _ = merge.receive(5, offset: 5, epoch: "E")
        _ = merge.receive(6, offset: 6, epoch: "E")
        let outcome = merge.historyRead(read(nil, top: 5), entries: [])
        #expect(outcome.recovered == nil && outcome.position.offset == 5 && outcome.items == [6])
    }

    @Test func itemsWithoutPositionPassAndEpochChangeRestartsTheCount() {
        var merge = Merge(since: nil)
        _ = merge.historyRead(read(nil, top: 9), entries: [])
        guard case .deliver(100) = merge.receive(100, offset: nil, epoch: nil) else {
            Issue.record("raw message must pass")
            return
        }
        guard case .deliver(1) = merge.receive(1, offset: 1, epoch: "NEW") else {
            Issue.record("new epoch restarts")
            return
        }
        #expect(merge.position == StreamPosition(offset: 1, epoch: "NEW"))
    }

    @Test func aGapBuffersAndAsksForTheMissingOffsets() {
        var merge = Merge(since: nil)
        _ = merge.historyRead(read(nil, top: 2), entries: [])
        guard case .gap(let missing) = merge.receive(5, offset: 5, epoch: "E") else {
            Issue.record("expected a gap")
            return
        }
        #expect(missing == StreamPosition(offset: 2, epoch: "E") && merge.isWaiting)
        _ = merge.receive(6, offset: 6, epoch: "E")
        let outcome = merge.historyRead(read(3...5, top: 5), entries: [3, 4, 5])
        #expect(outcome.recovered == true && outcome.items == [3, 4, 5, 6])
    }

    @Test func abandonReleasesBufferedItems() {
        var merge = Merge(since: StreamPosition(offset: 1, epoch: "E"))
        _ = merge.receive(2, offset: 2, epoch: "E")
        #expect(merge.abandon() == [2])
        guard case .deliver(3) = merge.receive(3, offset: 3, epoch: "E") else {
            Issue.record("passthrough after abandon")
            return
        }
    }

    /// Property: whatever the timing of the subscription, the read and late live copies, the client gets every
    /// offset after `since` exactly once, in order.
    @Test func noGapNoDuplicateUnderRandomInterleavings() {
        var random = SplitMix(seed: 42)
        for _ in 0..<2000 {
            let total = UInt64(random.next(upTo: 60) + 1)
            let since = UInt64(random.next(upTo: Int(total)))
            let confirmedAt = since + UInt64(random.next(upTo: Int(total - since) + 1))  // subscription active here
            let readAt = confirmedAt + UInt64(random.next(upTo: Int(total - confirmedAt) + 1))
            var merge = Merge(since: StreamPosition(offset: since, epoch: "E"))
            var out: [UInt64] = []
            // Live copies of confirmedAt+1...total arrive in order; `split` of them before the read completes.
            let live = Array(stride(from: confirmedAt + 1, through: total, by: 1))
            let split = random.next(upTo: live.count + 1)
            for offset in live[..<split] {
                if case .deliver(let item) = merge.receive(offset, offset: offset, epoch: "E") { out.append(item) }
            }
            let entries = since < readAt ? Array(since + 1...readAt) : []
            out += merge.historyRead(read(since < readAt ? since + 1...readAt : nil, top: readAt), entries: entries).items
            for offset in live[split...] {
                if case .deliver(let item) = merge.receive(offset, offset: offset, epoch: "E") { out.append(item) }
            }
            #expect(out == Array(stride(from: since + 1, through: total, by: 1)), "since \(since) conf \(confirmedAt) read \(readAt)")
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(upTo bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
}

@Suite struct RealtimeProtocolTests {
    func parse(_ text: String) -> Result<PubSubRequest, PubSubRequest.Problem> {
        PubSubRequest.parse(ByteBuffer(string: text))
    }

    @Test func sinceHistoryAndPresenceRequests() {
        #expect(
            parse(#"{"type":"subscribe","channel":"chat:1","since":{"offset":41,"epoch":"E"}}"#)
                == .success(.recover(channel: "chat:1", since: StreamPosition(offset: 41, epoch: "E"))))
        #expect(
            parse(#"{"since":{ "epoch" : "E" , "offset" : 0 },"type":"subscribe","channel":"c"}"#)
                == .success(.recover(channel: "c", since: StreamPosition(offset: 0, epoch: "E"))))
        #expect(parse(#"{"type":"history","channel":"chat:1","limit":20}"#) == .success(.history(channel: "chat:1", limit: 20)))
        #expect(parse(#"{"type":"history","channel":"chat:1"}"#) == .success(.history(channel: "chat:1", limit: nil)))
        #expect(parse(#"{"type":"presence","channel":"chat:1"}"#) == .success(.presence(channel: "chat:1")))
    }

    @Test func malformedSinceAndLimit() {
        for since in [#""x""#, "{}", #"{"offset":-1,"epoch":"E"}"#, #"{"offset":1.5,"epoch":"E"}"#, #"{"offset":1}"#,
            #"{"epoch":"E"}"#, #"{"offset":99999999999999999999999,"epoch":"E"}"#, #"{"offset":1,"epoch":7}"#, "null"]
        {
            #expect(parse(#"{"type":"subscribe","channel":"c","since":\#(since)}"#) == .failure(.invalidSince), "\(since)")
        }
        for limit in ["-1", "1.5", #""3""#, "null", "1e3"] {
            #expect(parse(#"{"type":"history","channel":"c","limit":\#(limit)}"#) == .failure(.invalidLimit), "\(limit)")
        }
        #expect(parse(#"{"type":"presence"}"#) == .failure(.missingChannel))
    }

    @Test func framesKeepTheSpecShapes() {
        func text(_ frame: ByteBuffer) -> String {
            frame.getString(at: frame.readerIndex + 2, length: frame.readableBytes - 2)!
        }
        let allocator = ByteBufferAllocator()
        let position = StreamPosition(offset: 42, epoch: "E")
        #expect(
            text(PubSubFrames.message(channel: "c", data: ByteBuffer(string: "{\"a\":1}"), position: position, allocator: allocator))
                == #"{"type":"message","channel":"c","data":{"a":1},"offset":42,"epoch":"E"}"#)
        #expect(
            text(PubSubFrames.subscribed(channel: "c", recovered: true, position: position, allocator: allocator))
                == #"{"type":"subscribed","channel":"c","recovered":true,"offset":42,"epoch":"E"}"#)
        let read = HistoryRead(position: position, entries: [HistoryEntry(offset: 42, data: ByteBuffer(string: "1"))])
        #expect(
            text(PubSubFrames.history(channel: "c", read: read, allocator: allocator))
                == #"{"type":"history","channel":"c","messages":[{"offset":42,"data":1}],"offset":42,"epoch":"E"}"#)
        let member = PresenceMember(user: "alice", client: "x1")
        #expect(
            text(PubSubFrames.presence(channel: "c", clients: [member.json], allocator: allocator))
                == #"{"type":"presence","channel":"c","clients":[{"user":"alice","client":"x1"}]}"#)
        #expect(
            text(PubSubFrames.presenceEvent(.leave, channel: "c", member: PresenceMember(user: nil, client: "y"), allocator: allocator))
                == #"{"type":"leave","channel":"c","user":null,"client":"y"}"#)
    }

    @Test func redisPayloads() {
        func parse(_ text: String) -> RealtimePayload? { RealtimePayload.parse(ByteBuffer(string: text)) }
        #expect(parse(#"{"data":[1,2]}"#) == .message(data: ByteBuffer(string: "[1,2]"), position: nil))
        #expect(
            parse(#"{"offset":7,"epoch":"ab","data":{"x":"y"}}"#)
                == .message(data: ByteBuffer(string: #"{"x":"y"}"#), position: StreamPosition(offset: 7, epoch: "ab")))
        #expect(parse(#"{"presence":"join","user":null,"client":"c1"}"#) == .presence(kind: .join, member: PresenceMember(user: nil, client: "c1")))
        #expect(parse(#"{"presence":"wave","client":"c1"}"#) == .message(data: ByteBuffer(string: #"{"presence":"wave","client":"c1"}"#), position: nil))
        #expect(parse(#"{"offset":-7,"epoch":"ab","data":1}"#) == .message(data: ByteBuffer(string: "1"), position: nil))
        #expect(parse("42") == .message(data: ByteBuffer(string: "42"), position: nil))
        #expect(parse("{oops") == nil)
        #expect(parse("") == nil)
    }

    @Test func historyScriptReplyParsing() {
        let entry: RESPValue = .array([.bulkString(ByteBuffer(string: "3-0")), .array([.bulkString(ByteBuffer(string: "d")), .bulkString(ByteBuffer(string: "1"))])])
        let reply: RESPValue = .array([.bulkString(ByteBuffer(string: "E")), .integer(3), .array([entry])])
        #expect(
            HistoryScripts.parseRead(reply, query: .after(2))
                == HistoryRead(position: StreamPosition(offset: 3, epoch: "E"), entries: [HistoryEntry(offset: 3, data: ByteBuffer(string: "1"))]))
        #expect(HistoryScripts.parseRead(.array([.integer(1)]), query: .position) == nil)
        #expect(HistoryScripts.parseRead(.array([.bulkString(ByteBuffer(string: "E")), .integer(-1), .array([])]), query: .position) == nil)
    }
}

@Suite struct RealtimeSupportTests {
    @Test func keysShareTheChannelsHashSlot() {
        let plain = HistoryKeys(redisChannel: "gw:ch:chat:1")
        #expect(plain.stream == "{gw:ch:chat:1}:h" && plain.meta == "{gw:ch:chat:1}:m" && plain.presence == "{gw:ch:chat:1}:p")
        let tagged = HistoryKeys(redisChannel: "gw:ch:room{42}")
        #expect(tagged.stream == "gw:ch:room{42}:h")
        #expect(HistoryKeys.hasHashTag("a{b}c") && !HistoryKeys.hasHashTag("a{}b") && !HistoryKeys.hasHashTag("a}b{"))
    }

    @Test func sseEncodingSplitsLineBreaksAndIDsRoundTrip() {
        let event = SSEEvents.message(channel: "c", data: ByteBuffer(string: "{\n \"a\": 1\r\n}"), id: "E:5")
        #expect(String(buffer: event) == "id: E:5\nevent: message\ndata: {\"channel\":\"c\",\"data\":{\ndata:  \"a\": 1\ndata: }}\n\n")
        var id = SSEEventID(historyChannels: ["a", "b"])
        #expect(id.value == "-,-")
        id.update("b", StreamPosition(offset: 9, epoch: "E2"))
        #expect(id.value == "-,E2:9")
        #expect(SSEEventID.resume("-,E2:9", historyChannels: ["a", "b"]) == ["b": StreamPosition(offset: 9, epoch: "E2")])
        #expect(SSEEventID.resume("E:1", historyChannels: ["a"]) == ["a": StreamPosition(offset: 1, epoch: "E")])
        for bad in ["E:1", "E:x", ":1", "E:-1", ""] where bad != "E:1" {
            #expect(SSEEventID.resume(bad, historyChannels: ["a"]) == nil, "\(bad)")
        }
        #expect(SSEEventID.resume("E:1", historyChannels: ["a", "b"]) == nil)
        #expect(SSEQuery.channels("channel=a,b&x=1&channel=c%3A1") == ["a", "b", "c:1"])
    }

    @Test func publishBudgetIsGCRA() {
        var budget = PublishBudget(PubSubPublishRate(limit: 2, window: .seconds(1)))
        let first = budget.admit(now: 0), second = budget.admit(now: 0), third = budget.admit(now: 0)
        #expect(first && second && !third && budget.retryAfterSeconds(now: 0) == 1)
        let later = budget.admit(now: 500_000), again = budget.admit(now: 500_000)
        #expect(later && !again)
    }

    @Test func memoryHistoryBoundsExpiresAndRenewsTheEpoch() {
        let clock = TestClock()
        let history = MemoryHistory(now: { clock.now })
        let limits = HistoryLimits(size: 3, ttlMilliseconds: 1000)
        var delivered: [UInt64] = []
        for n in 1...5 { _ = history.append("c", data: ByteBuffer(string: "\(n)"), limits: limits) { delivered.append($0.offset) } }
        #expect(delivered == [1, 2, 3, 4, 5])
        let read = history.read("c", query: .after(0), limits: limits, create: false)
        #expect(read.entries.map(\.offset) == [3, 4, 5] && read.position.offset == 5)
        #expect(history.read("c", query: .last(2), limits: limits, create: false).entries.map(\.offset) == [4, 5])
        let epoch = read.position.epoch
        clock.advance(.seconds(2))
        #expect(history.read("c", query: .position, limits: limits, create: false).position == StreamPosition(offset: 0, epoch: ""))
        let next = history.append("c", data: ByteBuffer(string: "x"), limits: limits) { _ in }
        #expect(next.offset == 1 && next.epoch != epoch)
    }

    @Test func channelPoliciesTreatUserAsWildcard() throws {
        var route = RouteSettings(name: "r")
        var pubsub = PubSubSettings()
        pubsub.history = PubSubHistorySettings(channels: ["user:{user}"], size: 5, ttl: .seconds(2))
        route.pubsub = pubsub
        let policies = ChannelPolicies(routes: [route])
        #expect(policies.historyLimits(for: "user:bob") == HistoryLimits(size: 5, ttlMilliseconds: 2000))
        #expect(policies.historyLimits(for: "chat:1") == nil)
    }
}

/// A manual clock for `MemoryHistory`.
final class TestClock: Sendable {
    private let box = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
    var now: NIODeadline { box.withLockedValue { $0 } }
    func advance(_ amount: TimeAmount) { box.withLockedValue { $0 = $0 + amount } }
}
