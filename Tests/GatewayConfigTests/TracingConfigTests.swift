import Testing

@testable import GatewayConfig

@Suite struct TracingConfigTests {
    func load(_ observability: String) throws -> GatewayConfiguration {
        try ConfigLoader.load(
            yaml: "observability:\n" + observability + "\n" + baseUpstream, path: "/cfg/gateway.yaml", environment: [:])
    }

    @Test func specExampleDecodes() throws {
        let config = try load(
            "  tracing:\n    otlp_endpoint: http://127.0.0.1:4318\n    service_name: edge\n    sample_ratio: 0.1")
        #expect(config.observability.tracing == TracingSettings(otlpEndpoint: "http://127.0.0.1:4318", serviceName: "edge", sampleRatio: 0.1))
    }

    @Test func defaultsAndAbsence() throws {
        let config = try load("  tracing: { otlp_endpoint: https://otel.example:4318 }")
        #expect(config.observability.tracing?.serviceName == "gateway")
        #expect(config.observability.tracing?.sampleRatio == 1.0)
        let none = try ConfigLoader.load(yaml: baseUpstream, path: "/cfg/gateway.yaml", environment: [:])
        #expect(none.observability.tracing == nil)
        #expect(try load("  tracing:").observability.tracing == nil)
    }

    @Test func percentagesAndBounds() throws {
        #expect(try load("  tracing: { otlp_endpoint: http://c:4318, sample_ratio: 25% }").observability.tracing?.sampleRatio == 0.25)
        #expect(try load("  tracing: { otlp_endpoint: http://c:4318, sample_ratio: 0 }").observability.tracing?.sampleRatio == 0)
        #expect(try load("  tracing: { otlp_endpoint: http://c:4318, sample_ratio: 1 }").observability.tracing?.sampleRatio == 1)
    }

    @Test(arguments: [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
        ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
        ("https://collector/otlp/v1/traces", "https://collector/otlp/v1/traces"),
        ("http://[::1]:4318", "http://[::1]:4318/v1/traces"),
    ])
    func tracesURLFollowsTheOTLPEndpointRules(endpoint: String, url: String) {
        #expect(TracingSettings(otlpEndpoint: endpoint).tracesURL == url)
    }

    @Test func malformedValuesNameFileLineAndKey() {
        let prefix = "observability:\n  tracing:\n"
        #expect(errorLines(prefix + "    otlp_endpoint: 127.0.0.1:4318\n" + baseUpstream).first?.hasPrefix(
            "/cfg/gateway.yaml:3:20: 'otlp_endpoint' must start with http:// or https://") == true)
        #expect(errorLines(prefix + "    otlp_endpoint: grpc://c:4317\n" + baseUpstream).first?.contains("gRPC is not supported") == true)
        #expect(errorLines(prefix + "    otlp_endpoint: http://c:99999\n" + baseUpstream).first?.contains("invalid port '99999'") == true)
        #expect(errorLines(prefix + "    otlp_endpoint: http://\n" + baseUpstream).first?.contains("has no host") == true)
        #expect(errorLines(prefix + "    otlp_endpoint: http://c:4318\n    sample_ratio: 1.5\n" + baseUpstream) == [
            "/cfg/gateway.yaml:4:19: 'sample_ratio' must be a number from 0 to 1 (or a percentage, e.g. 10%), got '1.5'"
        ])
        #expect(errorLines(prefix + "    otlp_endpoint: http://c:4318\n    sample_ratio: lots\n" + baseUpstream).first?.contains(
            "'sample_ratio' must be a number") == true)
        #expect(errorLines(prefix + "    otlp_endpoint: http://c:4318\n    sample_ratio: 120%\n" + baseUpstream).first?.contains(
            "got '120%'") == true)
        #expect(errorLines(prefix + "    service_name: gw\n" + baseUpstream) == [
            "/cfg/gateway.yaml:3:5: observability.tracing is missing required key 'otlp_endpoint'"
        ])
        #expect(errorLines(prefix + "    otlp_endpoint: http://c:4318\n    sampel_ratio: 0.5\n" + baseUpstream).contains {
            $0.hasSuffix(":4:5: unknown key 'sampel_ratio' in observability.tracing (did you mean 'sample_ratio'?)")
        })
        #expect(errorLines("observability:\n  tracng: {}\n" + baseUpstream).contains {
            $0.hasSuffix(":2:3: unknown key 'tracng' in observability (did you mean 'tracing'?)")
        })
    }
}
