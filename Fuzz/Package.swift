// swift-tools-version:6.2
// The libFuzzer harness for the byte-level HTTP/1 parsers of GatewayHTTP. A package of its own so the main build
// (and CI's `swift build --build-tests`) never needs libFuzzer; Sources/GatewayHTTP is a symlink to the real target.
// Run it with scripts/fuzz.sh.
import PackageDescription

let package = Package(
    name: "gateway-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3")
    ],
    targets: [
        .target(name: "GatewayHTTP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(
            name: "HTTP1Fuzzer",
            dependencies: ["GatewayHTTP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Parse-cost micro benchmark against libhttp-parser (scripts/bench/parser.sh); built without the fuzzer.
        .executableTarget(
            name: "HTTP1Bench",
            dependencies: ["GatewayHTTP", .product(name: "NIOCore", package: "swift-nio")]
        ),
    ]
)
