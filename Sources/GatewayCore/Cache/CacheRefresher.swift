import Foundation
import GatewayPolicies
import GatewayUpstreams
import NIOCore
import NIOHTTP1

/// stale-while-revalidate: one background request to the upstream (conditional when the entry has validators)
/// that refreshes the entry while clients are served the stale copy. Runs on one event loop, owns itself until
/// the response ends or fails, and always releases the flight and the fleet lock.
final class CacheRefresher: UpstreamResponseReceiver {
    private let cache: ResponseCache
    private let state: CacheExchange
    private let token: String
    private let upstream: RouteUpstream
    private let pool: UpstreamConnectionPool
    private let eventLoop: any EventLoop
    private let request: HTTPRequestHead
    private let route: String
    private let path: String
    private let timeout: TimeAmount
    private var connection: UpstreamConnection?
    private var replica: Replica?
    private var head: HTTPResponseHead?
    private var body: [ByteBuffer] = []
    private var bytes = 0
    private var timer: Scheduled<Void>?
    /// Holds the refresher alive while the upstream connection (which references it weakly) works.
    private var retained: CacheRefresher?

    init(
        cache: ResponseCache, state: CacheExchange, token: String, upstream: RouteUpstream,
        pool: UpstreamConnectionPool, eventLoop: any EventLoop, request: HTTPRequestHead,
        route: String, path: String, timeout: TimeAmount
    ) {
        self.cache = cache
        self.state = state
        self.token = token
        self.pool = pool
        self.eventLoop = eventLoop
        self.request = request
        self.upstream = upstream
        self.route = route
        self.path = path
        self.timeout = timeout
    }

    func start(connectTimeout: TimeAmount) {
        // The pick counts the attempt as started; `finish` ends it exactly once.
        guard let pick = upstream.pickAndStart(clientIP: "", affinityCookie: nil, excluding: [Int]()) else {
            done()
            return
        }
        retained = self
        self.replica = pick.replica
        timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.fail(.timeout)
        }
        pool.acquire(pick.replica, connectTimeout: connectTimeout, tls: upstream.tlsContext(for: pick.replica)).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let connection):
                guard self.retained != nil else {
                    connection.channel.close(promise: nil)
                    return
                }
                self.connection = connection
                connection.handler.receiver = self
                connection.channel.write(HTTPClientRequestPart.head(self.request), promise: nil)
                connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            case .failure:
                self.fail(.connectFailure)
            }
        }
    }

    var downstreamIsWritable: Bool { true }
    func upstreamReadComplete() {}
    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            if head.status.code >= 200 { self.head = head }
        case .body(let buffer):
            bytes += buffer.readableBytes
            if bytes <= cache.settings.maxObjectBytes { body.append(buffer) }
        case .end:
            guard let head else { return }
            let code = Int(head.status.code)
            finishAttempt(code >= 502 && code <= 504 ? .badStatus(code) : .success)
            if let connection {
                self.connection = nil
                connection.handler.receiver = nil
                if head.isKeepAlive {
                    pool.release(connection, keepalive: upstream.keepalive)
                } else {
                    connection.channel.close(promise: nil)
                }
            }
            store(head)
            done()
        }
    }

    func upstreamFailed(_ error: any Error) {
        fail(.resetBeforeResponse)
    }

    private func fail(_ outcome: AttemptOutcome) {
        finishAttempt(outcome)
        if let connection {
            self.connection = nil
            connection.handler.receiver = nil
            connection.channel.close(promise: nil)
        }
        done()
    }

    /// Passive health for the replica tried, exactly once.
    private func finishAttempt(_ outcome: AttemptOutcome) {
        guard let replica else { return }
        self.replica = nil
        replica.requestFinished(outcome.requestOutcome)
    }

    private func store(_ head: HTTPResponseHead) {
        let now = Date().timeIntervalSince1970
        if head.status == .notModified, let stale = state.stale {
            let age = CacheRules.initialAge(
                ageHeader: head.headers.first(name: "age"), date: head.headers.first(name: "date"),
                requestTime: state.requestTime, responseTime: now)
            let refreshed = stale.refreshed(with: ProxyHandler.storedHeaders(head.headers), at: now, initialAge: age)
            _ = cache.store(digest: state.key.digest, entry: refreshed, windows: state.windows, on: eventLoop)
            return
        }
        guard bytes <= cache.settings.maxObjectBytes,
            var entry = ProxyHandler.storableEntry(
                head, request: request, state: state, maxObjectBytes: cache.settings.maxObjectBytes, route: route,
                path: path, now: now)
        else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: bytes)
        for var part in body { buffer.writeBuffer(&part) }
        entry.body = buffer
        _ = cache.store(digest: state.key.digest, entry: entry, windows: state.windows, on: eventLoop)
    }

    private func done() {
        timer?.cancel()
        timer = nil
        cache.unlock(digest: state.key.digest, token: token, on: eventLoop)
        cache.coalescer.finish(state.key.digest)
        retained = nil
    }
}

extension ProxyHandler {
    /// Starts one background refresh of `entry` in the fleet (in-process flight + Redis lock); others skip it.
    func refreshInBackground(_ entry: CacheEntry, state: CacheExchange, exchange: ProxyExchange) {
        guard let cache = services.cache, let route = exchange.route, let upstream = route.upstream,
            let context
        else { return }
        let eventLoop = context.eventLoop
        guard cache.coalescer.join(state.key.digest, on: eventLoop) == nil else { return }
        state.stale = entry
        var head = upstreamHead(for: exchange, route: route)
        head.method = .GET
        head.headers.remove(name: "content-length")
        head.headers.remove(name: "transfer-encoding")
        let token = RequestID.generate(using: &random)
        let timeouts = route.settings.timeouts
        let refresher = CacheRefresher(
            cache: cache, state: state, token: token, upstream: upstream, pool: pool, eventLoop: eventLoop,
            request: head, route: route.name, path: exchange.path, timeout: timeouts.response.timeAmount)
        cache.lock(digest: state.key.digest, token: token, milliseconds: Int(timeouts.response.timeAmount.nanoseconds / 1_000_000), on: eventLoop)
            .assumeIsolated().whenComplete { result in
                if case .success(true) = result {
                    refresher.start(connectTimeout: timeouts.connect.timeAmount)
                } else {
                    cache.coalescer.finish(state.key.digest)
                }
            }
    }
}
