/// Collects every problem found during one load, in discovery order.
///
/// One instance per ``ConfigLoader`` call, used from that call's thread only (not `Sendable`).
final class Diagnostics {
    private(set) var errors: [ConfigError] = []
    /// Accepted but suspicious constructs; they never fail a load.
    private(set) var warnings: [ConfigError] = []

    func report(_ message: String, at location: SourceLocation) {
        errors.append(ConfigError(at: location, message))
    }

    func warn(_ message: String, at location: SourceLocation) {
        warnings.append(ConfigError(at: location, message))
    }
}
