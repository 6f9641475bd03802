import Foundation
import Testing

@testable import GatewayCore

@Suite struct DashboardStatsTests {
    @Test func latencyBucketsAreMonotonicAndPercentilesLandInTheRightBucket() {
        #expect(LatencyBuckets.index(nanoseconds: 0) == 0)
        #expect(LatencyBuckets.index(nanoseconds: 50_000) == 0)
        #expect(LatencyBuckets.index(nanoseconds: 50_001) == 1)
        #expect(LatencyBuckets.index(nanoseconds: Int64.max) == LatencyBuckets.count - 1)
        var previous = 0
        for exponent in stride(from: 3.0, to: 11.0, by: 0.1) {
            let index = LatencyBuckets.index(nanoseconds: Int64(pow(10, exponent)))
            #expect(index >= previous)
            previous = index
        }
        var histogram = [Int](repeating: 0, count: LatencyBuckets.count)
        for _ in 0..<98 { histogram[LatencyBuckets.index(nanoseconds: 2_000_000)] += 1 }  // 2 ms
        for _ in 0..<2 { histogram[LatencyBuckets.index(nanoseconds: 400_000_000)] += 1 }  // 400 ms
        let p50 = LatencyBuckets.percentile(0.5, of: histogram)!
        let p99 = LatencyBuckets.percentile(0.99, of: histogram)!
        #expect(p50 > 2 / 1.25 && p50 <= 2 * 1.25, "p50 \(p50)")
        #expect(p99 > 400 / 1.25 && p99 <= 400 * 1.25, "p99 \(p99)")
        #expect(LatencyBuckets.percentile(0.5, of: [Int](repeating: 0, count: LatencyBuckets.count)) == nil)
    }

    @Test func routeWindowCountsAndResetsEachSecond() {
        let window = RouteWindow(route: "api")
        window.record(status: 200, nanoseconds: 1_000_000)
        window.record(status: 204, nanoseconds: 1_000_000)
        window.record(status: 503, nanoseconds: 1_000_000)
        window.record(status: 0, nanoseconds: 1_000_000)
        window.record(status: 404, nanoseconds: 1_000_000)
        let sample = window.take()
        #expect(sample.classes == [0, 2, 0, 1, 2])
        #expect(sample.latency.reduce(0, +) == 5)
        #expect(window.take().requests == 0)
    }

    @Test func seriesKeepsFiveMinutesOldestFirst() {
        var series = RouteSeries()
        for second in 0..<310 {
            var sample = SecondSample()
            sample.classes[1] = second
            sample.latency[10] = second == 0 ? 0 : 1
            series.append(sample)
        }
        let history = series.history
        #expect(history.count == 300)
        #expect(history.first?.classes[1] == 10)
        #expect(history.last?.classes[1] == 309)
        #expect(series.totals[1] == (0..<310).reduce(0, +))
        #expect(series.recentPercentiles.p50 != nil)
    }

    @Test func liveStatsFoldsEveryRouteAndKeepsWindowsAcrossReloads() {
        let live = LiveStats()
        let first = live.window(for: "api")
        #expect(live.window(for: "api") === first)
        first.record(status: 200, nanoseconds: 10)
        live.tick()
        live.tick()
        let history = live.series(for: "api")!.history
        #expect(history.map(\.requests) == [1, 0])
    }

    @Test func recentErrorsKeepTheLastFifty() {
        var errors = RecentErrors()
        for index in 0..<60 {
            errors.append(
                GatewayErrorRecord(
                    at: Date(), requestID: "r\(index)", route: "x", method: "GET", path: "/", status: 502, detail: "d"))
        }
        #expect(errors.ordered.count == 50)
        #expect(errors.ordered.first?.requestID == "r10")
        #expect(errors.ordered.last?.requestID == "r59")
    }

    @Test func prometheusSamplesParseLabelsAndSkipGarbage() {
        let text = """
            # HELP gateway_ratelimit_decisions_total x
            # TYPE gateway_ratelimit_decisions_total counter
            gateway_ratelimit_decisions_total{route="api",limit="per-ip",result="allowed"} 12
            gateway_ratelimit_decisions_total{route="a\\"b",limit="l",result="denied"} 3
            gateway_connections_open 4
            gateway_http_in_flight 1.5e0
            broken{route="x" 1
            broken2{route=x} 1
            nolabelsnovalue
            gateway_other{a="1"} NaN
            """
        let samples = PrometheusSamples(text: text)
        #expect(samples.samples.count == 5)
        #expect(samples.named("gateway_ratelimit_decisions_total")[1].labels["route"] == "a\"b")
        #expect(samples.sum("gateway_ratelimit_decisions_total") == 15)
        #expect(samples.sum("gateway_http_in_flight") == 1.5)
        let filtered = PrometheusSamples(text: text, names: ["gateway_connections_open"])
        #expect(filtered.samples == [.init(name: "gateway_connections_open", labels: [:], value: 4)])
    }

    @Test func jsonValuesRenderCompactly() {
        let value: JSONValue = .object([
            ("a", .int(1)), ("b", .double(2.0)), ("c", .double(0.12345)), ("d", .number(nil)), ("e", .number(.infinity)),
            ("f", .array([.string("x\"y"), .bool(true), .null])),
        ])
        #expect(value.rendered == #"{"a":1,"b":2,"c":0.123,"d":null,"e":null,"f":["x\"y",true,null]}"#)
    }

    @Test func redisUrlsLoseTheirPassword() {
        #expect(DashboardSnapshot.redacted("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0")
        #expect(DashboardSnapshot.redacted("redis://host:6379/0") == "redis://host:6379/0")
    }
}
