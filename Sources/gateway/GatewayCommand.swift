import ArgumentParser
import Foundation
import GatewayConfig
import GatewayCore
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A reverse proxy and API gateway with shared state in Redis.",
        version: GatewayVersion.current,
        subcommands: [Serve.self, Check.self, Cert.self],
        defaultSubcommand: Serve.self
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: [.customShort("c"), .long], help: "Path to the configuration file.")
    var config: String = "conf/gateway.yaml"
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gateway")
        let environment = ProcessInfo.processInfo.environment
        let configuration: GatewayConfiguration
        do {
            configuration = try ConfigLoader.load(path: options.config, environment: environment)
        } catch let errors as ConfigErrors {
            for error in errors.errors { FileHandle.standardError.write(Data((error.description + "\n").utf8)) }
            throw ExitCode(1)
        }
        FileLimits.raiseOpenFileLimit()
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let service = GatewayService(
            configPath: options.config, environment: environment, configuration: configuration,
            prometheus: prometheus, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration; print one line per route, or FILE:LINE:COLUMN: message per problem.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        do {
            let configuration = try ConfigLoader.load(
                path: options.config, environment: ProcessInfo.processInfo.environment)
            let certificateProblems = ListenerCertificateCheck.problems(configuration)
            if !certificateProblems.isEmpty {
                for line in certificateProblems { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                throw ExitCode(1)
            }
            for line in ConfigSummary.lines(for: configuration) { print(line) }
            print(ConfigSummary.overview(for: configuration))
            for hint in ConfigHints.hints(for: configuration) { FileHandle.standardError.write(Data((hint + "\n").utf8)) }
            for warning in ConfigWarnings.warnings(for: configuration) {
                FileHandle.standardError.write(Data((warning + "\n").utf8))
            }
        } catch let errors as ConfigErrors {
            for error in errors.errors { FileHandle.standardError.write(Data((error.description + "\n").utf8)) }
            throw ExitCode(1)
        }
    }
}
