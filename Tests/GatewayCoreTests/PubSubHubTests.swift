import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayCore

/// Records deliveries; the hub shares one frame buffer between all subscribers.
final class RecordingSubscriber: PubSubSubscriber {
    var frames: [ByteBuffer] = []
    var flushes = 0
    func deliver(_ frame: ByteBuffer) { frames.append(frame) }
    func flushDeliveries() { flushes += 1 }
}

@Suite struct PubSubHubTests {
    @Test func refcountsChannelsAndFlushesOncePerBatch() {
        let loop = EmbeddedEventLoop()
        let fanout = LocalFanout()
        var firsts = 0
        var lasts = 0
        let a = RecordingSubscriber()
        let b = RecordingSubscriber()
        fanout.add("chat:1", a, on: loop) { firsts += 1 }
        fanout.add("chat:1", b, on: loop) { firsts += 1 }
        fanout.add("chat:1", b, on: loop) { firsts += 1 }
        #expect(firsts == 1)
        #expect(fanout.subscriberCount("chat:1") == 2)

        for n in 0..<3 { fanout.deliver("chat:1", data: ByteBuffer(string: "\(n)")) }
        fanout.deliver("other", data: ByteBuffer(string: "x"))
        loop.run()
        #expect(a.frames.count == 3 && b.frames.count == 3)
        #expect(a.flushes == 1 && b.flushes == 1)
        let payload = a.frames[2].getString(at: a.frames[2].readerIndex + 2, length: a.frames[2].readableBytes - 2)
        #expect(payload == #"{"type":"message","channel":"chat:1","data":2}"#)

        fanout.remove("chat:1", a, on: loop) { lasts += 1 }
        #expect(lasts == 0)
        fanout.remove("chat:1", a, on: loop) { lasts += 1 }
        fanout.remove("chat:1", b, on: loop) { lasts += 1 }
        #expect(lasts == 1)
        #expect(fanout.subscriberCount("chat:1") == 0)
        fanout.deliver("chat:1", data: ByteBuffer(string: "9"))
        loop.run()
        #expect(a.frames.count == 3)
    }

    @Test func inMemoryHubPublishesInOrder() throws {
        let loop = EmbeddedEventLoop()
        let hub = PubSubHub.inMemory(logger: .init(label: "test"))
        let subscriber = RecordingSubscriber()
        _ = hub.subscribe("c", subscriber, on: loop)
        for n in 0..<100 { try hub.publish("c", data: ByteBuffer(string: "\(n)"), on: loop).wait() }
        loop.run()
        let numbers = subscriber.frames.map { frame in
            frame.getString(at: frame.readerIndex + 2, length: frame.readableBytes - 2)!
        }
        #expect(numbers == (0..<100).map { #"{"type":"message","channel":"c","data":\#($0)}"# })
        hub.unsubscribe("c", subscriber, on: loop)
        #expect(hub.localSubscriberCount("c") == 0)
    }
}
