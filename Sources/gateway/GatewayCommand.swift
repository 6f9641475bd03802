import ArgumentParser
import Foundation
import GatewayConfig
import GatewayCore
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A reverse proxy and API gateway with shared state in Redis.",
        discussion: HelpText.root,
        version: GatewayVersion.current,
        subcommands: [Serve.self, Check.self, Init.self, Schema.self, Completion.self, Cert.self],
        defaultSubcommand: Serve.self
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: [.customShort("c"), .long], help: "Path to the configuration file.", completion: .file(extensions: ["yaml", "yml"]))
    var config: String = "conf/gateway.yaml"
}

/// Prints `message` to stderr as `gateway: error: ...` (what every CLI failure looks like).
func printError(_ message: String) {
    LogOutput.standardError.write("gateway: error: \(message)\n")
}

func printConfigErrors(_ errors: ConfigErrors) {
    LogOutput.standardError.write(errors.errors.map { $0.description + "\n" }.joined())
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.", discussion: HelpText.serve)

    @OptionGroup var options: ConfigOption

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Reload (like SIGHUP) when the config file or an included file changes.")
    var watch = false

    @Option(help: ArgumentHelp("How often --watch looks at the files.", valueName: "duration"))
    var watchInterval: String = "1s"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (try? DurationParser.parse(watchInterval)) != nil else {
            throw ValidationError("--watch-interval must be a duration like 500ms or 2s")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in OperatorLogHandler(label: label, level: level) }
        let logger = Logger(label: "gateway")
        let environment = ProcessInfo.processInfo.environment
        let configuration: GatewayConfiguration
        do {
            configuration = try ConfigLoader.load(path: options.config, environment: environment)
        } catch let errors as ConfigErrors {
            printConfigErrors(errors)
            throw ExitCode(1)
        }
        let startup = StartupChecks.problems(configuration, environment: environment)
            + EdgeConfigCheck.startupProblems(configuration, environment: environment)
        guard startup.isEmpty else {
            printConfigErrors(ConfigErrors(errors: startup))
            throw ExitCode(1)
        }
        FileLimits.raiseOpenFileLimit()
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let interval = (try? DurationParser.parse(watchInterval)) ?? .seconds(1)
        let service = GatewayService(
            configPath: options.config, environment: environment, configuration: configuration,
            prometheus: prometheus, logger: logger,
            watchInterval: watch ? interval : nil)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch let error as GatewayStartupError {
            printError(error.description)
            throw ExitCode(1)
        } catch {
            logger.debug("service group failed", metadata: ["error": "\(String(reflecting: error))"])
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration; print one line per route, or FILE:LINE:COLUMN: message per problem.",
        discussion: HelpText.check)

    @OptionGroup var options: ConfigOption

    @Flag(help: "Print a machine-readable JSON summary (listeners, admin, routes, upstreams, store) instead.")
    var json = false

    func run() throws {
        do {
            let configuration = try ConfigLoader.load(
                path: options.config, environment: ProcessInfo.processInfo.environment)
            for warning in configuration.warnings {
                LogOutput.standardError.write("\(warning.file):\(warning.line):\(warning.column): warning: \(warning.message)\n")
            }
            let certificateProblems = ListenerCertificateCheck.problems(configuration)
                + EdgeConfigCheck.problems(configuration)
            if !certificateProblems.isEmpty {
                for line in certificateProblems { LogOutput.standardError.write(line + "\n") }
                throw ExitCode(1)
            }
            if json {
                print(CheckReport.json(configuration))
                return
            }
            for line in ConfigSummary.lines(for: configuration) { print(line) }
            print(ConfigSummary.overview(for: configuration))
            for hint in ConfigHints.hints(for: configuration) { FileHandle.standardError.write(Data((hint + "\n").utf8)) }
            for warning in ConfigWarnings.warnings(for: configuration) {
                FileHandle.standardError.write(Data((warning + "\n").utf8))
            }
        } catch let errors as ConfigErrors {
            if json { print(CheckReport.failure(errors.errors)) }
            printConfigErrors(errors)
            throw ExitCode(1)
        }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a commented starter configuration that passes `gateway check`.",
        discussion: """
            EXAMPLES
              gateway init --upstream http://127.0.0.1:3000 --out gateway.yaml
              gateway init --upstream http://10.0.0.5:8000 \\
                           --upstream http://10.0.0.6:8000 > gateway.yaml

            The --upstream URLs become the replicas of one upstream `app`, routed
            from `/`. Without --out the config goes to stdout. An existing file is
            not overwritten unless --force is given.
            """)

    @Option(name: .customLong("upstream"), help: ArgumentHelp("An upstream replica URL (repeatable).", valueName: "url"))
    var upstreams: [String] = []

    @Option(help: ArgumentHelp("Write the config to this file instead of stdout.", valueName: "file"), completion: .file())
    var out: String?

    @Option(help: "The proxy listener.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "The admin listener (health, metrics, reload); keep it on loopback.")
    var adminListen: String = "127.0.0.1:9901"

    @Flag(help: "Overwrite --out if it exists.")
    var force = false

    func run() throws {
        let text = StarterConfig.text(upstreams: upstreams, listen: listen, adminListen: adminListen)
        // Never write a file `check` would refuse: validate as if it were already at its destination.
        do {
            _ = try ConfigLoader.load(yaml: text, path: out ?? "gateway.yaml", environment: [:])
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError(error.message) }
            throw ExitCode(1)
        }
        guard let out else {
            print(text, terminator: "")
            return
        }
        if FileManager.default.fileExists(atPath: out), !force {
            printError("\(out) exists; pass --force to overwrite it")
            throw ExitCode(1)
        }
        do {
            try text.write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            printError("cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        LogOutput.standardError.write("wrote \(out); next: gateway check --config \(out) && gateway serve --config \(out)\n")
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the JSON Schema of the configuration file (for editors and validators).",
        discussion: """
            EXAMPLES
              gateway schema > gateway.schema.json
              # first line of the YAML file:
              # yaml-language-server: $schema=./gateway.schema.json

            The schema refuses unknown keys like `gateway check` does; `check`
            stays the authority on values.
            """)

    func run() throws {
        print(ConfigSchema.json(), terminator: "")
    }
}

struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: """
            EXAMPLES
              source <(gateway completion bash)            # this bash session
              gateway completion bash | sudo tee /etc/bash_completion.d/gateway
              gateway completion zsh > "${fpath[1]}/_gateway"
              gateway completion fish > ~/.config/fish/completions/gateway.fish
            """)

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "bash, zsh or fish.")
    var shell: Shell

    func run() throws {
        let kind: CompletionShell =
            switch shell {
            case .bash: .bash
            case .zsh: .zsh
            case .fish: .fish
            }
        print(GatewayCommand.completionScript(for: kind))
    }
}
