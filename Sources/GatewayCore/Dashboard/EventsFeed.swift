import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// `GET /events` on the admin listener: a Server-Sent Events stream of dashboard frames, one per second.
///
/// Nothing runs while nobody watches: the first viewer starts a once-per-second task, the last one leaving
/// cancels it. Each second one frame is built and the same bytes are written to every viewer. A viewer whose
/// socket is not writable (it does not read) skips frames instead of making the gateway buffer them.
final class EventsFeed: Sendable {
    private struct State {
        var viewers: [ObjectIdentifier: any Channel] = [:]
        var task: RepeatedTask?
        var lastFrame: ByteBuffer?
        var sequence = 0
    }

    private let snapshot: DashboardSnapshot
    private let eventLoop: any EventLoop
    private let state = NIOLockedValueBox(State())
    let interval: TimeAmount

    init(snapshot: DashboardSnapshot, eventLoop: any EventLoop, interval: TimeAmount = .seconds(1)) {
        self.snapshot = snapshot
        self.eventLoop = eventLoop
        self.interval = interval
    }

    var viewerCount: Int { state.withLockedValue { $0.viewers.count } }

    /// Adds a viewer whose response head (`text/event-stream`) has been written. It gets the latest frame at
    /// once when the feed is already running, else the first frame the new task builds.
    func attach(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        var hello = channel.allocator.buffer(capacity: 16)
        hello.writeString("retry: 2000\n\n")
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(hello)), promise: nil)
        let latest: ByteBuffer? = state.withLockedValue { state in
            state.viewers[id] = channel
            if state.task == nil {
                state.task = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in
                    broadcast()
                }
                return nil
            }
            return state.lastFrame
        }
        if let latest { channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(latest)), promise: nil) }
        channel.closeFuture.whenComplete { [self] _ in detach(id) }
    }

    private func detach(_ id: ObjectIdentifier) {
        let stopped: Bool = state.withLockedValue { state in
            state.viewers[id] = nil
            guard state.viewers.isEmpty, let task = state.task else { return false }
            task.cancel()
            state.task = nil
            state.lastFrame = nil
            return true
        }
        if stopped { snapshot.reset() }
    }

    /// Builds one frame and writes it to every viewer (runs on `eventLoop`).
    private func broadcast() {
        let sequence = state.withLockedValue { state -> Int? in
            guard !state.viewers.isEmpty else { return nil }
            state.sequence += 1
            return state.sequence
        }
        guard let sequence else { return }
        let json = snapshot.frame()
        var buffer = ByteBufferAllocator().buffer(capacity: json.utf8.count + 32)
        buffer.writeString("id: \(sequence)\ndata: ")
        buffer.writeString(json)
        buffer.writeString("\n\n")
        let viewers = state.withLockedValue { state in
            state.lastFrame = buffer
            return Array(state.viewers.values)
        }
        for channel in viewers where channel.isWritable {
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
    }

    /// Ends every stream (shutdown).
    func closeAll() {
        let viewers = state.withLockedValue { state in
            state.task?.cancel()
            state.task = nil
            return Array(state.viewers.values)
        }
        for channel in viewers { channel.close(promise: nil) }
    }
}
