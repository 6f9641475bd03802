import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import OTel
import ServiceLifecycle
import Tracing

/// The process's OpenTelemetry tracer: swift-otel's tracer, batch span processor and OTLP/HTTP (protobuf) exporter,
/// built once at start from `observability.tracing`. Absent config → no instance, and the request path only checks
/// `services.tracing == nil`.
///
/// The export pipeline is a swift-service-lifecycle service run on its own task, so it outlives the gateway's
/// drain: ``shutdown()`` (after the last request finished) flushes the spans still queued.
final class GatewayTracing: Sendable {
    let tracer: any Tracer
    let settings: TracingSettings
    private let service: any Service
    private let running = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    init(settings: TracingSettings, logger: Logger) throws {
        self.settings = settings
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.propagators = [.traceContext]
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = settings.tracesURL
        configuration.traces.otlpExporter.`protocol` = .httpProtobuf
        // Parent-based: a client's sampled traceparent is kept, an unsampled one dropped; new traces by ratio.
        if settings.sampleRatio < 1, let sampler = OTel.Configuration.TracesConfiguration.SamplerConfiguration.parentBasedTraceIDRatio(
            ratio: settings.sampleRatio)
        {
            configuration.traces.sampler = sampler
        } else {
            configuration.traces.sampler = .parentBasedAlwaysOn
        }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        self.tracer = backend.factory
        self.service = backend.service
    }

    /// Starts exporting (idempotent).
    func start(logger: Logger) {
        running.withLockedValue { running in
            guard running == nil else { return }
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [], logger: logger))
            // Detached: the gateway's own graceful shutdown must not stop the exporter before the drain ends.
            let task = Task.detached {
                do {
                    try await group.run()
                } catch {
                    logger.warning("tracing exporter stopped: \(error)")
                }
            }
            running = (group, task)
        }
    }

    /// Flushes queued spans and stops the exporter.
    func shutdown() async {
        guard let entry = running.withLockedValue({ running in defer { running = nil }; return running }) else {
            return
        }
        await entry.group.triggerGracefulShutdown()
        await entry.task.value
    }
}
