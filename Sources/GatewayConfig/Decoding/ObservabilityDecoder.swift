import Foundation
import Yams

/// `observability: { tracing: { otlp_endpoint, service_name, sample_ratio } }`.
enum ObservabilityDecoder {
    static let keys = ["tracing"]
    static let tracingKeys = ["otlp_endpoint", "service_name", "sample_ratio"]

    static func decode(_ node: Node, context: DecodeContext) -> ObservabilitySettings {
        var settings = ObservabilitySettings()
        guard let map = MappingReader(node, what: "observability", allowed: keys, context: context) else { return settings }
        if let tracing = map["tracing"] { settings.tracing = decodeTracing(tracing, context: context) }
        return settings
    }

    static func decodeTracing(_ node: Node, context: DecodeContext) -> TracingSettings? {
        guard let map = MappingReader(node, what: "observability.tracing", allowed: tracingKeys, context: context),
            let endpointNode = map.required("otlp_endpoint"),
            let endpoint = context.nonEmptyString(endpointNode, key: "otlp_endpoint")
        else { return nil }
        guard let problem = endpointProblem(endpoint) else {
            var settings = TracingSettings(otlpEndpoint: endpoint)
            if let nameNode = map["service_name"] {
                guard let name = context.nonEmptyString(nameNode, key: "service_name") else { return nil }
                settings.serviceName = name
            }
            if let ratioNode = map["sample_ratio"] {
                guard let ratio = sampleRatio(ratioNode, context: context) else { return nil }
                settings.sampleRatio = ratio
            }
            return settings
        }
        context.error("'otlp_endpoint' \(problem), e.g. http://127.0.0.1:4318 (OTLP/HTTP), got '\(endpoint)'", at: endpointNode)
        return nil
    }

    /// Why an endpoint is not an `http(s)://host[:port][/path]` URL, or nil when it is one.
    static func endpointProblem(_ endpoint: String) -> String? {
        let lower = endpoint.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else {
            return "must start with http:// or https:// (OTLP/HTTP; gRPC is not supported)"
        }
        let authority = endpoint.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.isEmpty { return "has no host" }
        if endpoint.contains(where: { $0 == " " || $0 == "\t" }) { return "must not contain spaces" }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let number = Int(port), (1...65535).contains(number) else { return "has an invalid port '\(port)'" }
        }
        return nil
    }

    /// `sample_ratio: 0.1` (0 to 1) or `10%`.
    static func sampleRatio(_ node: Node, context: DecodeContext) -> Double? {
        let text = (node.scalar?.string ?? "").trimmingCharacters(in: .whitespaces)
        let value: Double?
        if text.hasSuffix("%") {
            value = Double(text.dropLast()).map { $0 / 100 }
        } else {
            value = Double(text)
        }
        guard node.scalar != nil, let value, value.isFinite, value >= 0, value <= 1 else {
            context.error("'sample_ratio' must be a number from 0 to 1 (or a percentage, e.g. 10%), got '\(text)'", at: node)
            return nil
        }
        return value
    }
}
