import GatewayConfig
import GatewayPolicies
import NIOCore
import NIOHTTP1
import NIOPosix

/// A `static` route: the gateway answers from a directory (nginx's `root` + `index` + `try_files` + `gzip_static`).
/// The file is looked up and opened on NIO's thread pool (never blocking an event loop) and sent with sendfile
/// (a `FileRegion`), with `ETag`/`Last-Modified`, conditional requests (304), single `Range`s (206/416) and `HEAD`.
extension ProxyHandler {
    func serveStatic(_ exchange: ProxyExchange, route: CompiledRoute, settings: StaticFilesSettings, context: ChannelHandlerContext) {
        let method = exchange.head.method
        guard method == .GET || method == .HEAD else {
            respondLocally(
                exchange,
                ProblemResponse(
                    .methodNotAllowed, detail: "\(method.rawValue) is not allowed on static files.",
                    headers: [("Allow", "GET, HEAD")]))
            return
        }
        let (requestPath, _) = RequestValidation.splitURI(exchange.head.uri)
        let path = route.rewrite(path: requestPath)
        guard case .ok(let segments, let directory) = StaticPath.resolve(path) else {
            if case .refused(let reason) = StaticPath.resolve(path) { exchange.outcomeNote = "static: \(reason)" }
            respondLocally(exchange, ProblemResponse(.badRequest, detail: "The path is not allowed for static files."))
            return
        }
        exchange.phase = .answeredLocally
        let acceptsGzip = AcceptEncoding(headerValues: exchange.head.headers["accept-encoding"]).acceptsGzip
        let eventLoop = context.eventLoop
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            StaticFileLookup.find(
                settings: settings, segments: segments, directoryRequested: directory, requestPath: requestPath,
                acceptsGzip: acceptsGzip)
        }.assumeIsolated().whenComplete { [self] result in
            let outcome: StaticFileLookup.Outcome
            switch result {
            case .success(let found): outcome = found
            case .failure: outcome = .notFound
            }
            guard self.exchange === exchange, !exchange.responseStarted, self.context != nil else {
                if case .found(let file) = outcome { Glibc.close(file.descriptor) }
                return
            }
            switch outcome {
            case .notFound:
                respondLocally(exchange, ProblemResponse(.notFound, detail: "No file at \(requestPath)."))
            case .redirect(let location):
                respondLocally(
                    exchange,
                    ProblemResponse(.movedPermanently, detail: "The directory is at \(location).", headers: [("Location", location)]))
            case .found(let file):
                writeStaticFile(file, exchange: exchange, settings: settings)
            }
        }
    }

    private func writeStaticFile(_ file: StaticFileLookup.Found, exchange: ProxyExchange, settings: StaticFilesSettings) {
        guard let context else {
            Glibc.close(file.descriptor)
            return
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: file.descriptor)
        let request = exchange.head.headers
        let etag = "\"\(String(file.modified, radix: 16))-\(String(file.size, radix: 16))\(file.gzip ? "-gz" : "")\""
        let lastModified = HTTPDate.format(time_t(file.modified))

        var headers = HTTPHeaders()
        headers.add(name: "Date", value: HTTPDate.now())
        headers.add(name: "X-Request-Id", value: exchange.requestID)
        headers.add(name: "ETag", value: etag)
        headers.add(name: "Last-Modified", value: lastModified)
        if file.isIndex {
            headers.add(name: "Cache-Control", value: "no-cache")
        } else if let cache = settings.cache {
            headers.add(name: "Cache-Control", value: "public, max-age=\(cache.components.seconds)")
        }
        if settings.precompressed { headers.add(name: "Vary", value: "Accept-Encoding") }
        for (name, value) in exchange.policy.responseHeaders { headers.replaceOrAdd(name: name, value: value) }
        if exchange.closeAfterResponse || !exchange.head.isKeepAlive || closing {
            headers.add(name: "Connection", value: "close")
            exchange.closeAfterResponse = true
        }

        var status: HTTPResponseStatus = .ok
        var start: Int64 = 0
        var length = file.size
        if StaticConditions.notModified(
            ifNoneMatch: request.first(name: "if-none-match"), ifModifiedSince: request.first(name: "if-modified-since"),
            etag: etag, modified: file.modified)
        {
            status = .notModified
            length = 0
        } else {
            headers.add(name: "Content-Type", value: file.contentType)
            if file.gzip { headers.add(name: "Content-Encoding", value: "gzip") }
            headers.add(name: "Accept-Ranges", value: "bytes")
            let range: StaticRange =
                StaticConditions.rangeApplies(ifRange: request.first(name: "if-range"), etag: etag, lastModified: lastModified)
                ? StaticRange.parse(request.first(name: "range"), size: file.size) : .whole
            switch range {
            case .whole:
                break
            case .partial(let from, let to):
                status = .partialContent
                start = from
                length = to - from + 1
                headers.add(name: "Content-Range", value: "bytes \(from)-\(to)/\(file.size)")
            case .unsatisfiable:
                try? handle.close()
                headers.remove(name: "Content-Encoding")
                headers.remove(name: "ETag")
                respondLocally(
                    exchange,
                    ProblemResponse(
                        .rangeNotSatisfiable, detail: "The range is outside the file of \(file.size) bytes.",
                        headers: [("Content-Range", "bytes */\(file.size)")]))
                return
            }
            headers.add(name: "Content-Length", value: String(length))
        }

        exchange.responseStarted = true
        exchange.responseStatus = Int(status.code)
        let head = HTTPResponseHead(version: responseVersion(exchange), status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if exchange.head.method == .HEAD || status == .notModified || length == 0 {
            exchange.responseBytes = 0
            try? handle.close()
        } else {
            exchange.responseBytes = Int(length)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(start), endIndex: Int(start + length))
            context.write(wrapOutboundOut(.body(.fileRegion(region)))).whenComplete { _ in try? handle.close() }
        }
        writeResponseEnd(exchange)
    }
}
