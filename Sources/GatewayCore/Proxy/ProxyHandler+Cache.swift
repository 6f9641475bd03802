import Foundation
import GatewayConfig
import GatewayHTTP
import GatewayPolicies
import NIOCore
import NIOHTTP1

/// The response cache in the request path (SPEC §11). Hooks, each one line in the core handler:
/// - `proceed` → ``startCacheLookup(_:route:)`` before the upstream (serves HIT/STALE, coalesces, revalidates);
/// - `upstreamHead(for:route:)` → ``applyCacheRequestHeaders(_:exchange:)`` (our validators);
/// - `receivedResponseHead` → ``cacheInterceptsResponseHead(_:exchange:)`` (304 refresh, stale-if-error on 5xx,
///   decides whether to store);
/// - `upstreamReceived` → ``cacheSwallows(_:exchange:)`` and ``cacheCaptures(_:exchange:)`` (the tee);
/// - `writeResponseHead` → ``addCacheResponseHeaders(_:exchange:)`` (`X-Cache`);
/// - `respondLocally` → ``cacheServesStaleOnError(_:status:)`` and ``finishCacheFlight(_:)``.
extension ProxyHandler {
    /// Starts the cache path for a cacheable request; false when the request does not use the cache.
    func startCacheLookup(_ exchange: ProxyExchange, route: CompiledRoute) -> Bool {
        guard let cache = services.cache, let settings = route.settings.cache, let context else { return false }
        let method = exchange.head.method.rawValue
        guard settings.methods.contains(method), !exchange.hasBody, !exchange.isWebSocketUpgrade else { return false }
        let requestCC = CacheControl(exchange.head.headers[canonicalForm: "cache-control"].map(String.init))
        if requestCC.noStore { return false }
        let fields = ResponseCache.fields(of: exchange.head.headers.map { ($0.name, $0.value) })
        let host = RequestValidation.hostWithoutPort(exchange.head.headers.first(name: "host")) ?? ""
        let key = CacheKey.primary(
            route: route.name, components: settings.key, method: method, host: host, path: exchange.path,
            query: exchange.query, header: ResponseCache.headerLookup(fields))
        let state = CacheExchange(
            settings: settings, key: key, fields: fields, requestTime: Date().timeIntervalSince1970)
        exchange.cache = state
        let windows = state.windows
        cache.lookup(
            digest: key.digest, fields: fields,
            isFresh: { CacheRules.freshness(of: $0, at: Date().timeIntervalSince1970, windows: windows) == .fresh },
            on: context.eventLoop
        ).assumeIsolated().whenComplete {
            [self] result in
            guard self.exchange === exchange, exchange.phase == .filtering else { return }
            switch result {
            case .success(.entry(let entry)): self.cacheFound(entry, exchange: exchange, state: state)
            case .success(.none): self.cacheMissed(exchange, state: state)
            case .success(.unavailable), .failure: self.cacheBypass(exchange, state: state)
            }
        }
        return true
    }

    private func cacheBypass(_ exchange: ProxyExchange, state: CacheExchange) {
        state.result = .bypass
        state.capture = nil
        startUpstream(exchange)
    }

    private func cacheFound(_ entry: CacheEntry, exchange: ProxyExchange, state: CacheExchange) {
        if exchange.head.headers.contains(name: "authorization"), !CacheRules.allowsAuthorized(entry) {
            cacheBypass(exchange, state: state)
            return
        }
        let now = Date().timeIntervalSince1970
        switch CacheRules.freshness(of: entry, at: now, windows: state.windows) {
        case .fresh:
            serveCachedEntry(entry, result: .hit, exchange: exchange)
        case .staleWhileRevalidate:
            serveCachedEntry(entry, result: .stale, exchange: exchange)
            refreshInBackground(entry, state: state, exchange: exchange)
        case .revalidate(let staleIfError):
            state.stale = entry
            state.staleIfError = staleIfError
            cacheMissed(exchange, state: state)
        }
    }

    /// Nothing usable stored: lead the fetch (in-process, then fleet-wide) or wait for the one who does.
    private func cacheMissed(_ exchange: ProxyExchange, state: CacheExchange) {
        guard let cache = services.cache, let context else { return }
        let eventLoop = context.eventLoop
        guard let waiting = cache.coalescer.join(state.key.digest, on: eventLoop) else {
            state.leads = true
            let token = RequestID.generate(using: &random)
            let lockMilliseconds = Int(cacheWaitLimit(exchange).nanoseconds / 1_000_000)
            cache.lock(digest: state.key.digest, token: token, milliseconds: lockMilliseconds, on: eventLoop)
                .assumeIsolated().whenComplete { [self] result in
                    guard self.exchange === exchange, exchange.phase == .filtering else {
                        if case .success(true) = result { cache.unlock(digest: state.key.digest, token: token, on: eventLoop) }
                        self.finishCacheFlight(exchange)
                        return
                    }
                    if case .success(false) = result {
                        // Another instance is fetching: wait for its entry in Redis.
                        self.waitForSharedEntry(exchange, state: state, deadline: .now() + self.cacheWaitLimit(exchange))
                    } else {
                        state.lockToken = token
                        self.fetchAfterLocking(exchange, state: state)
                    }
                }
            return
        }
        // Another request of this process leads: wait for it, bounded by the route's response timeout.
        let timeout = eventLoop.assumeIsolated().scheduleTask(in: cacheWaitLimit(exchange)) { [weak self] in
            guard !state.waitSettled else { return }
            state.waitSettled = true
            self?.cacheWaitEnded(exchange, state: state)
        }
        waiting.assumeIsolated().whenComplete { [self] _ in
            timeout.cancel()
            guard !state.waitSettled else { return }
            state.waitSettled = true
            self.cacheWaitEnded(exchange, state: state)
        }
    }

    /// The local leader finished (or we stopped waiting): its entry is in the memory tier, or we fetch ourselves.
    private func cacheWaitEnded(_ exchange: ProxyExchange, state: CacheExchange) {
        guard self.exchange === exchange, exchange.phase == .filtering, let cache = services.cache else { return }
        if let entry = cache.lookupMemory(digest: state.key.digest, fields: state.fields),
            CacheRules.freshness(of: entry, at: Date().timeIntervalSince1970, windows: state.windows) == .fresh,
            !exchange.head.headers.contains(name: "authorization") || CacheRules.allowsAuthorized(entry)
        {
            cache.metrics.coalesced()
            serveCachedEntry(entry, result: .hit, exchange: exchange)
            return
        }
        fetchForCache(exchange, state: state)
    }

    /// Polls Redis while another instance holds the fetch lock; ends with its entry, or a fetch of our own when the
    /// lock went away without one (the other fetch was not storable or failed) or the wait limit passed.
    private func waitForSharedEntry(_ exchange: ProxyExchange, state: CacheExchange, deadline: NIODeadline) {
        guard let cache = services.cache, let shared = cache.shared, let context else { return }
        let eventLoop = context.eventLoop
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(15)) { [weak self] in
            guard let self, self.exchange === exchange, exchange.phase == .filtering else {
                self?.finishCacheFlight(exchange)
                return
            }
            // The lock is asked first on the same connection: when it is gone, the owner's entry (written before
            // the unlock) is visible to the lookup that follows.
            let locked = shared.isLocked(digest: state.key.digest, on: eventLoop)
            let lookup = shared.get(digest: state.key.digest, fields: state.fields, on: eventLoop)
            lookup.and(locked).assumeIsolated().whenComplete { result in
                guard self.exchange === exchange, exchange.phase == .filtering else {
                    self.finishCacheFlight(exchange)
                    return
                }
                switch result {
                case .success((let entry?, _))
                where CacheRules.freshness(of: entry, at: Date().timeIntervalSince1970, windows: state.windows) == .fresh:
                    cache.memory.put(digest: state.key.digest, entry: entry)
                    cache.metrics.coalesced()
                    self.serveCachedEntry(entry, result: .hit, exchange: exchange)
                case .success((_, true)) where NIODeadline.now() < deadline:
                    self.waitForSharedEntry(exchange, state: state, deadline: deadline)
                default:
                    self.fetchForCache(exchange, state: state)
                }
            }
        }
    }

    /// Double-checked: another instance may have stored the entry between our lookup and our lock.
    private func fetchAfterLocking(_ exchange: ProxyExchange, state: CacheExchange) {
        guard let cache = services.cache, let shared = cache.shared, shared.isAvailable, let context else {
            fetchForCache(exchange, state: state)
            return
        }
        shared.get(digest: state.key.digest, fields: state.fields, on: context.eventLoop).assumeIsolated().whenComplete {
            [self] result in
            guard self.exchange === exchange, exchange.phase == .filtering else {
                self.finishCacheFlight(exchange)
                return
            }
            if case .success(let entry?) = result,
                CacheRules.freshness(of: entry, at: Date().timeIntervalSince1970, windows: state.windows) == .fresh
            {
                cache.memory.put(digest: state.key.digest, entry: entry)
                self.serveCachedEntry(entry, result: .hit, exchange: exchange)
            } else {
                self.fetchForCache(exchange, state: state)
            }
        }
    }

    private func fetchForCache(_ exchange: ProxyExchange, state: CacheExchange) {
        startUpstream(exchange)
    }

    private func cacheWaitLimit(_ exchange: ProxyExchange) -> TimeAmount {
        (exchange.route?.settings.timeouts.response ?? .seconds(15)).timeAmount
    }

    /// Ends this request's lead: wakes local waiters and releases the fleet lock. Idempotent.
    func finishCacheFlight(_ exchange: ProxyExchange) {
        guard let state = exchange.cache, let cache = services.cache else { return }
        if let token = state.lockToken, let context {
            state.lockToken = nil
            cache.unlock(digest: state.key.digest, token: token, on: context.eventLoop)
        }
        if state.leads {
            state.leads = false
            cache.coalescer.finish(state.key.digest)
        }
    }

    // MARK: Upstream request and response

    /// Our validators replace the client's conditionals: the cache needs a full answer (or a 304 for its entry).
    func applyCacheRequestHeaders(_ headers: inout HTTPHeaders, exchange: ProxyExchange) {
        guard let state = exchange.cache, state.result != .bypass else { return }
        for name in ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"] {
            headers.remove(name: name)
        }
        guard let stale = state.stale, stale.status == 200 else { return }
        if let etag = stale.etag { headers.add(name: "If-None-Match", value: etag) }
        if let modified = stale.lastModified { headers.add(name: "If-Modified-Since", value: modified) }
    }

    /// true when the cache takes over the response (a 304 refreshing the entry, or a 5xx answered with stale
    /// content); otherwise decides whether the response is stored and lets it stream on.
    func cacheInterceptsResponseHead(_ head: HTTPResponseHead, exchange: ProxyExchange) -> Bool {
        guard let state = exchange.cache, let cache = services.cache, let context else { return false }
        let status = Int(head.status.code)
        let now = Date().timeIntervalSince1970
        let headers = Self.storedHeaders(head.headers)
        if status == 304, let stale = state.stale, state.result != .bypass {
            let age = CacheRules.initialAge(
                ageHeader: head.headers.first(name: "age"), date: head.headers.first(name: "date"),
                requestTime: state.requestTime, responseTime: now)
            let refreshed = stale.refreshed(with: headers, at: now, initialAge: age)
            state.swallowing = refreshed
            state.result = .revalidated
            _ = cache.store(digest: state.key.digest, entry: refreshed, windows: state.windows, on: context.eventLoop)
            finishCacheFlight(exchange)
            return true
        }
        if status >= 500, let stale = state.stale, state.staleIfError {
            state.swallowing = stale
            state.result = .stale
            finishCacheFlight(exchange)
            return true
        }
        guard state.result != .bypass, exchange.head.method == .GET,
            let entry = Self.storableEntry(
                head, request: exchange.head, state: state, maxObjectBytes: cache.settings.maxObjectBytes,
                route: exchange.routeName, path: exchange.path, now: now)
        else {
            finishCacheFlight(exchange)
            return false
        }
        state.pendingEntry = entry
        state.capture = []
        state.captureLimit = cache.settings.maxObjectBytes
        return false
    }

    /// The entry (without its body) for a response to a `GET`, or nil when RFC 9111 §3 or `max_object_bytes`
    /// says it is not stored.
    static func storableEntry(
        _ head: HTTPResponseHead, request: HTTPRequestHead, state: CacheExchange, maxObjectBytes: Int, route: String,
        path: String, now: Double
    ) -> CacheEntry? {
        let status = Int(head.status.code)
        var varyNames = CacheKey.varyNames(head.headers[canonicalForm: "vary"].map(String.init))
        if head.headers.contains(name: "content-encoding"), !varyNames.contains("accept-encoding") {
            // A body encoded by the upstream must not reach a client that did not ask for that encoding.
            varyNames = (varyNames + ["accept-encoding"]).sorted()
        }
        let reason = CacheRules.notStorable(
            method: "GET", status: status,
            response: CacheControl(head.headers[canonicalForm: "cache-control"].map(String.init)),
            request: CacheControl(request.headers[canonicalForm: "cache-control"].map(String.init)),
            requestHasAuthorization: request.headers.contains(name: "authorization"),
            hasSetCookie: head.headers.contains(name: "set-cookie"), storeSetCookie: state.settings.storeSetCookie,
            varyNames: varyNames)
        guard reason == nil else { return nil }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxObjectBytes {
            return nil
        }
        let age = CacheRules.initialAge(
            ageHeader: head.headers.first(name: "age"), date: head.headers.first(name: "date"),
            requestTime: state.requestTime, responseTime: now)
        return CacheEntry(
            status: status, headers: storedHeaders(head.headers), body: ByteBuffer(), storedAt: now, initialAge: age,
            varyNames: varyNames,
            variant: CacheKey.variant(names: varyNames, requestHeader: ResponseCache.headerLookup(state.fields)),
            route: route, path: path)
    }

    /// The rest of a response the cache took over: dropped; at its end the entry is served.
    func cacheSwallows(_ part: HTTPClientResponsePart, exchange: ProxyExchange) -> Bool {
        guard let state = exchange.cache, let entry = state.swallowing else { return false }
        if case .end = part {
            exchange.upstreamResponseEnded = true
            let reusable = (exchange.upstreamResponseHead?.isKeepAlive ?? false) && exchange.requestEnded
            detachConnection(exchange, reusable: reusable)
            state.swallowing = nil
            serveCachedEntry(entry, result: state.result, exchange: exchange)
        }
        return true
    }

    /// The tee: body parts are copied (by reference) while the response streams to the client; at the end the
    /// entry is stored. Nothing here delays the client's bytes.
    func cacheCaptures(_ part: HTTPClientResponsePart, exchange: ProxyExchange) {
        guard let state = exchange.cache else { return }
        switch part {
        case .body(let buffer):
            state.keepCopy(of: buffer)
        case .end:
            defer { finishCacheFlight(exchange) }
            guard let parts = state.capture, var entry = state.pendingEntry, let cache = services.cache, let context
            else { return }
            state.capture = nil
            var body = context.channel.allocator.buffer(capacity: state.capturedBytes)
            for var part in parts { body.writeBuffer(&part) }
            entry.body = body
            _ = cache.store(digest: state.key.digest, entry: entry, windows: state.windows, on: context.eventLoop)
        case .head:
            break
        }
    }

    /// `X-Cache` on a response that came from the upstream.
    func addCacheResponseHeaders(_ headers: inout HTTPHeaders, exchange: ProxyExchange) {
        guard let state = exchange.cache, let cache = services.cache else { return }
        headers.replaceOrAdd(name: "X-Cache", value: state.result.rawValue)
        cache.metrics.record(route: exchange.routeName, result: state.result)
    }

    /// A gateway-made 5xx (no replica, connect failure, timeout) while a stale entry may be served on error.
    func cacheServesStaleOnError(_ exchange: ProxyExchange, status: HTTPResponseStatus) -> Bool {
        defer { finishCacheFlight(exchange) }
        guard status.code >= 500, let state = exchange.cache, state.staleIfError, let stale = state.stale,
            !exchange.responseStarted
        else { return false }
        state.staleIfError = false
        serveCachedEntry(stale, result: .stale, exchange: exchange)
        return true
    }

    // MARK: Serving an entry

    /// Writes a stored response: `Age`, `X-Cache`, a 304 when the client's conditional matches, no body for `HEAD`.
    func serveCachedEntry(_ entry: CacheEntry, result: CacheMetrics.Result, exchange: ProxyExchange) {
        guard let context else { return }
        exchange.cancelResponseTimer()
        detachConnection(exchange, reusable: false)
        exchange.heldParts = []
        exchange.phase = .answeredLocally
        exchange.cache?.result = result
        services.cache?.metrics.record(route: exchange.routeName, result: result)
        let now = Date().timeIntervalSince1970
        let notModified = CacheRules.notModified(
            ifNoneMatch: exchange.head.headers[canonicalForm: "if-none-match"].map(String.init),
            ifModifiedSince: exchange.head.headers.first(name: "if-modified-since"), entry: entry)
        var headers = HTTPHeaders()
        headers.reserveCapacity(entry.headers.count + 6)
        for header in entry.headers {
            if notModified, !Self.notModifiedHeaders.contains(header.name.lowercased()) { continue }
            headers.add(name: header.name, value: header.value)
        }
        headers.replaceOrAdd(name: "Age", value: String(Int(entry.age(at: now))))
        headers.replaceOrAdd(name: "X-Cache", value: result.rawValue)
        headers.replaceOrAdd(name: "X-Request-Id", value: exchange.requestID)
        headers.addDateIfMissing()
        for (name, value) in exchange.policy.responseHeaders { headers.replaceOrAdd(name: name, value: value) }
        let status = notModified ? HTTPResponseStatus.notModified : HTTPResponseStatus(statusCode: entry.status)
        var body = entry.body
        if !notModified {
            headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            if let settings = exchange.route?.settings.compress {
                exchange.compress = ResponseCompression.prepare(
                    &headers, status: status, request: exchange.head, settings: settings)
                if exchange.compress { ensureCompressor() }
            }
        }
        if notModified || exchange.head.method == .HEAD { body.clear() }
        switch ResponseRules.persistence(
            isHTTP10: responseVersion(exchange) == .http1_0, clientKeepAlive: exchange.head.isKeepAlive,
            gatewayCloses: exchange.closeAfterResponse || closing, lengthDelimited: true)
        {
        case .close:
            headers.replaceOrAdd(name: "Connection", value: "close")
            exchange.closeAfterResponse = true
        case .keepAlive(let announce):
            if announce { headers.replaceOrAdd(name: "Connection", value: "keep-alive") }
        }
        exchange.responseStarted = true
        exchange.responseStatus = Int(status.code)
        exchange.responseBytes = body.readableBytes
        finishCacheFlight(exchange)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: responseVersion(exchange), status: status, headers: headers))), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeResponseEnd(exchange)
    }

    /// Fields a 304 carries (RFC 9110 §15.4.5).
    static let notModifiedHeaders: Set<String> = [
        "cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified",
    ]

    /// The upstream's end-to-end fields as stored: no hop-by-hop or framing fields, no `Age` (recomputed).
    static func storedHeaders(_ headers: HTTPHeaders) -> [CacheEntry.Header] {
        var connectionListed: Set<String> = []
        for value in headers[canonicalForm: "connection"] { connectionListed.insert(value.lowercased()) }
        var out: [CacheEntry.Header] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            switch lower {
            case "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
                "content-length", "age", "x-cache", "x-request-id", "x-gateway-session":
                continue
            default:
                if lower.hasPrefix("proxy-") || connectionListed.contains(lower) { continue }
                out.append(.init(name, value))
            }
        }
        return out
    }
}
