import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The numbers behind the dashboard that `/metrics` does not keep: per-route 5-minute windows (1 s buckets) and
/// the last 50 gateway-made errors.
///
/// The request path only touches a route's `RouteWindow` (relaxed atomics, no lock). Once per second `tick()`
/// folds every window into its `RouteSeries`: a few dozen atomic exchanges per route, whether or not anybody
/// watches, so a dashboard opened now still shows the last five minutes. Windows are found by route name, so
/// they survive reloads.
///
/// Like the swift-metrics registry it complements, there is one per process (`shared`); tests make their own.
public final class LiveStats: Sendable {
    public static let shared = LiveStats()

    private struct State {
        var windows: [String: RouteWindow] = [:]
        var series: [String: RouteSeries] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let errors = NIOLockedValueBox(RecentErrors())
    private let ticker = NIOLockedValueBox<RepeatedTask?>(nil)

    public init() {}

    /// The window a route records into (called when a route is compiled, not per request).
    func window(for route: String) -> RouteWindow {
        state.withLockedValue { state in
            if let window = state.windows[route] { return window }
            let window = RouteWindow(route: route)
            state.windows[route] = window
            state.series[route] = RouteSeries()
            return window
        }
    }

    /// Folds the current second of every route into its series.
    func tick() {
        state.withLockedValue { state in
            for (route, window) in state.windows { state.series[route, default: RouteSeries()].append(window.take()) }
        }
    }

    func series(for route: String) -> RouteSeries? {
        state.withLockedValue { $0.series[route] }
    }

    func recordError(_ record: GatewayErrorRecord) {
        errors.withLockedValue { $0.append(record) }
    }

    var recentErrors: [GatewayErrorRecord] {
        errors.withLockedValue { $0.ordered }
    }

    /// Starts the once-per-second fold (idempotent).
    func start(on eventLoop: any EventLoop) {
        ticker.withLockedValue { ticker in
            guard ticker == nil else { return }
            ticker = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
                tick()
            }
        }
    }

    func stop() {
        ticker.withLockedValue { ticker in
            ticker?.cancel()
            ticker = nil
        }
    }
}

extension LiveStats {
    /// A 4xx/5xx the gateway answered itself (not one passed through from an upstream).
    func recordGatewayError(_ exchange: ProxyExchange, route: String, status: Int) {
        let (path, _) = RequestValidation.splitURI(exchange.head.uri)
        recordError(
            GatewayErrorRecord(
                at: Date(), requestID: exchange.requestID, route: route, method: exchange.head.method.rawValue,
                path: String(path.prefix(200)), status: status,
                detail: exchange.problemDetail ?? exchange.outcomeNote ?? HTTPResponseStatus(statusCode: status).reasonPhrase))
    }
}
