/// The longer help texts (`gateway --help`, `gateway serve --help`...): examples, environment, signals, exit codes.
enum HelpText {
    static let docs = """
        DOCS
          README.md (tour, install, behaviour), docs/configuration.md (every
          key), docs/nginx-migration.md, man gateway
        """

    static let environment = """
        ENVIRONMENT
          GATEWAY_REDIS_URL       replaces store.redis when set and non-empty
          GATEWAY_SESSION_SECRET  session cookie key, >= 32 bytes (or the variable
                                  that sessions.secret_env names)
        """

    static let signals = """
        SIGNALS (serve)
          SIGHUP    reload the config atomically (a bad file is refused and the
                    running config keeps serving)
          SIGUSR1   reopen the access-log file (after logrotate renamed it)
          SIGTERM   stop accepting, drain in-flight requests for up to
                    server.shutdown_grace, exit 0
          SIGINT    same as SIGTERM (Ctrl-C)
        """

    static let exitCodes = """
        EXIT CODES
          0   success (serve: stopped by SIGTERM/SIGINT after draining)
          1   invalid configuration, or the gateway could not start (port in
              use, log file, missing secret)
          64  bad command-line usage
        """

    static let root = """
        EXAMPLES
          gateway init --upstream http://127.0.0.1:3000 --out gateway.yaml
          gateway check --config gateway.yaml
          gateway serve --config gateway.yaml
          gateway --config gateway.yaml       # same as serve
          gateway serve --config gateway.yaml --watch
          gateway completion bash > /etc/bash_completion.d/gateway

        \(environment)

        \(signals)

        \(exitCodes)

        \(docs)
        """

    static let serve = """
        Runs the gateway in the foreground. Logs go to stderr (one line per
        event); the access log goes where server.access_log says (stdout by
        default, one JSON object per request).

        EXAMPLES
          gateway serve --config conf/gateway.yaml
          gateway serve -c gateway.yaml --log-level debug   # library detail too
          gateway serve -c gateway.yaml --watch       # reload on file changes
          kill -HUP $(pidof gateway)                  # reload
          kill -USR1 $(pidof gateway)                 # reopen the access log

        \(environment)

        \(signals)

        \(exitCodes)

        \(docs)
        """

    static let check = """
        Validates a config file and everything it includes, without starting
        anything. Prints one line per route and a closing `config OK: ...`
        line; or one `FILE:LINE:COLUMN: message` line per problem (every
        problem, not only the first) and exits 1. Warnings
        (`FILE:LINE:COLUMN: warning: ...`) go to stderr; exit code unchanged.

        EXAMPLES
          gateway check --config conf/gateway.yaml
          gateway check --config conf/gateway.yaml --json | python3 -m json.tool

        \(exitCodes)

        \(docs)
        """
}
