/// Reads the sample lines of the Prometheus text format (what `/metrics` serves) into
/// `(name, labels, value)` triples, so the dashboard's totals are the very numbers `/metrics` shows.
///
/// Comment lines and lines that do not parse are skipped (the input is our own exposition, but a parser that
/// meets garbage should not trap). Label values may hold `\"`, `\\` and `\n` escapes.
struct PrometheusSamples: Sendable {
    struct Sample: Sendable, Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    private(set) var samples: [Sample] = []

    init(text: String, names: Set<String>? = nil) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = line.first, first != "#" else { continue }
            if let names {
                let end = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
                guard names.contains(String(line[..<end])) else { continue }
            }
            if let sample = Self.parse(Substring(line)) { samples.append(sample) }
        }
    }

    static func parse(_ line: Substring) -> Sample? {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[line.startIndex..<index])
        guard !name.isEmpty else { return nil }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while true {
                guard index < line.endIndex else { return nil }
                if line[index] == "}" { index = line.index(after: index); break }
                if line[index] == "," || line[index] == " " { index = line.index(after: index); continue }
                let keyStart = index
                while index < line.endIndex, line[index] != "=" { index = line.index(after: index) }
                guard index < line.endIndex else { return nil }
                let key = String(line[keyStart..<index])
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { return nil }
                index = line.index(after: index)
                var value = ""
                var closed = false
                while index < line.endIndex {
                    let character = line[index]
                    index = line.index(after: index)
                    if character == "\"" { closed = true; break }
                    if character == "\\" {
                        guard index < line.endIndex else { return nil }
                        let escaped = line[index]
                        index = line.index(after: index)
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard closed, !key.isEmpty else { return nil }
                labels[key] = value
            }
        }
        let rest = line[index...].split(separator: " ", omittingEmptySubsequences: true)
        guard let text = rest.first else { return nil }
        let value: Double?
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(text)
        }
        guard let value else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Samples of one metric name.
    func named(_ name: String) -> [Sample] {
        samples.filter { $0.name == name }
    }

    /// The sum of a metric over all its series (0 when absent).
    func sum(_ name: String) -> Double {
        samples.reduce(0) { $1.name == name ? $0 + $1.value : $0 }
    }
}
