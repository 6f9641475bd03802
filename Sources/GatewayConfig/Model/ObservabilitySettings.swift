/// `observability:` (SPEC §12). Only tracing for now; absent means off.
public struct ObservabilitySettings: Sendable, Equatable {
    /// nil: tracing off (no tracer is built, the request path pays one nil check).
    public var tracing: TracingSettings? = nil

    public init(tracing: TracingSettings? = nil) {
        self.tracing = tracing
    }
}

/// `observability.tracing`: OpenTelemetry traces exported over OTLP/HTTP (protobuf).
public struct TracingSettings: Sendable, Equatable {
    /// As written: `http://127.0.0.1:4318` (a base: `/v1/traces` is appended) or a full `…/v1/traces` URL.
    public var otlpEndpoint: String
    public var serviceName: String = "gateway"
    /// Share of new traces kept (0…1). Parent-based: a client's sampled `traceparent` is always kept and an
    /// unsampled one never, whatever the ratio (as the OpenTelemetry SDKs' `parentbased_traceidratio`).
    public var sampleRatio: Double = 1.0

    public init(otlpEndpoint: String, serviceName: String = "gateway", sampleRatio: Double = 1.0) {
        self.otlpEndpoint = otlpEndpoint
        self.serviceName = serviceName
        self.sampleRatio = sampleRatio
    }

    /// Where spans are POSTed. As the OpenTelemetry SDKs read `OTEL_EXPORTER_OTLP_ENDPOINT`: an endpoint without
    /// a path is a base URL and gets `/v1/traces`; one with a path is used as it is.
    public var tracesURL: String {
        guard let schemeEnd = otlpEndpoint.range(of: "://") else { return otlpEndpoint }
        let rest = otlpEndpoint[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return otlpEndpoint + "/v1/traces" }
        let path = rest[slash...]
        return path == "/" ? otlpEndpoint + "v1/traces" : otlpEndpoint
    }
}
