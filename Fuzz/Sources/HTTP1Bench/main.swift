import Foundation
import GatewayHTTP
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

// Request-head parsing cost of GatewayHTTP's HTTP1RequestHeadParser on the same heads as
// scripts/bench/http_parser_bench.c (libhttp-parser). Run by scripts/bench/parser.sh.
func nanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

func bench(_ name: String, _ head: String, _ iterations: Int) {
    let source = ByteBuffer(string: head)
    var check = 0
    let start = nanoseconds()
    for _ in 0..<iterations {
        var buffer = source
        var parser = HTTP1RequestHeadParser()
        if case .head(let parsed) = parser.parse(&buffer) {
            check &+= parsed.fields.count &+ (parsed.keepAlive ? 1 : 0)
        }
    }
    let perHead = (nanoseconds() - start) / Double(iterations)
    print("GatewayHTTP    \(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", perHead)) ns/head  (check \(check % 7))")
}

let arguments = CommandLine.arguments
let iterations = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
let only = arguments.count > 2 ? arguments[2] : ""
if only != "browser" { bench("wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", iterations) }
if only != "wrk" {
bench(
    "browser",
    "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\nHost: api.example.com\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
        + "Accept: application/json, text/plain, */*\r\nAccept-Language: en-US,en;q=0.5\r\n"
        + "Accept-Encoding: gzip, deflate, br\r\nReferer: https://app.example.com/items\r\n"
        + "Cookie: gw_session=abcdefghijklmnopqrstuvwxyz0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ; theme=dark\r\n"
        + "X-Request-Id: 0b7c7a3e-3d1f-4c7e-9f43-2a1d5c8e9f00\r\nConnection: keep-alive\r\n\r\n",
    only == "browser" ? iterations : iterations / 2)
}
