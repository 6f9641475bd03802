/// `panic_threshold` (SPEC §13, Envoy's healthy panic threshold).
public enum PanicMode {
    /// Whether an upstream balances over all its replicas: a threshold is set and fewer than that share of the
    /// (non-draining) replicas are healthy. With no threshold, "no healthy replica → 503" stays the rule.
    public static func isActive(healthy: Int, configured: Int, threshold: Double?) -> Bool {
        guard let threshold, threshold > 0, configured > 0 else { return false }
        return Double(healthy) < threshold * Double(configured)
    }
}
