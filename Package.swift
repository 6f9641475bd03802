// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "demo-backend", targets: ["DemoBackend"]),
        .executable(name: "fanout-client", targets: ["FanoutClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-http-structured-headers.git", from: "1.7.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        // Tracing: OTLP/HTTP only (the gRPC exporter trait would pull grpc-swift for nothing).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.5.1"),
        // Attribute names only (`OTelAttribute.http.route`): no `Tracing` trait, so no generated SpanAttributes extensions to build.
        .package(url: "https://github.com/swift-otel/swift-otel-semantic-conventions.git", from: "1.44.0", traits: []),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    ],
    targets: [
        // TLS: certificate generation (`gateway cert dev`), PEM loading, SNI selection, reloadable server contexts
        // and client contexts for rediss:// and https:// upstreams. No GatewayConfig types, so every layer can use it.
        .target(
            name: "GatewayTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // hiredis (Debian's libhiredis-dev): RESP encoder and reply reader.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // libcrypt (libxcrypt): bcrypt verification for `server.admin_auth.basic_users_file`.
        .systemLibrary(
            name: "CCrypt",
            providers: [.apt(["libcrypt-dev"])]
        ),
        // Our Redis client: hiredis for the protocol, SwiftNIO for the I/O.
        .target(
            name: "GatewayRedis",
            dependencies: [
                "CHiredis",
                "GatewayTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // conf/*.yaml → validated model, errors with FILE:LINE:COLUMN.
        .target(
            name: "GatewayConfig",
            dependencies: [
                .product(name: "Yams", package: "Yams")
            ]
        ),
        // Pure HTTP/1 request rules (path normalisation, header names, Host, framing): no NIOHTTP1 types, so the
        // data plane can be rebuilt underneath them.
        .target(
            name: "GatewayHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio")
            ]
        ),
        // Shared-state policies: rate limits, sessions, pub/sub hub, compression rules.
        .target(
            name: "GatewayPolicies",
            dependencies: [
                "GatewayConfig",
                "GatewayRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ]
        ),
        // Edge policies (SPEC §10): JWT verification (jwt-kit), CIDR rules, CORS decisions, header rules, forward-auth
        // decisions. Pure logic, no channel types: the request phase in GatewayCore drives it.
        .target(
            name: "GatewayEdge",
            dependencies: [
                "GatewayConfig",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Load balancing, replica health (active + passive) and the retry budget.
        .target(
            name: "GatewayUpstreams",
            dependencies: [
                "GatewayConfig",
                "GatewayTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The proxy: listener, router, phases, upstream pool, admin API, metrics.
        .target(
            name: "GatewayCore",
            dependencies: [
                "GatewayConfig",
                "GatewayHTTP",
                "GatewayRedis",
                "GatewayPolicies",
                "GatewayEdge",
                "GatewayUpstreams",
                "GatewayTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                "CCrypt",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "OTelSemanticConventions", package: "swift-otel-semantic-conventions"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ]
        ),
        .executableTarget(
            name: "gateway",
            dependencies: [
                "GatewayCore",
                "GatewayConfig",
                "GatewayTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A small upstream for scripts, tests and benchmarks.
        .executableTarget(
            name: "DemoBackend",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The WebSocket pub/sub load generator of scripts/bench/fanout.sh.
        .executableTarget(
            name: "FanoutClient",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "GatewayConfigTests", dependencies: ["GatewayConfig"]),
        .testTarget(
            name: "GatewayRedisTests",
            dependencies: [
                "GatewayRedis",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GatewayPoliciesTests",
            dependencies: [
                "GatewayPolicies",
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ]),
        .testTarget(name: "GatewayHTTPTests", dependencies: ["GatewayHTTP"]),
        .testTarget(
            name: "GatewayEdgeTests",
            dependencies: [
                "GatewayEdge",
                "GatewayConfig",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "GatewayTLSTests",
            dependencies: [
                "GatewayTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(name: "GatewayUpstreamsTests", dependencies: ["GatewayUpstreams"]),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: [
                "GatewayCore",
                "GatewayHTTP",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
    ]
)
