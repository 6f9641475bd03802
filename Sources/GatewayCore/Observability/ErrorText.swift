import GatewayUpstreams

/// Operator-facing error text inside GatewayCore (see `OperatorText`): one name to call from the proxy files without
/// each of them importing GatewayUpstreams.
enum ErrorText {
    static func describe(_ error: any Error) -> String { OperatorText.describe(error) }
}
