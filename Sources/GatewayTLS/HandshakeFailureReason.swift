/// Short, stable labels for `gateway_tls_handshake_failures_total{reason}`.
public enum HandshakeFailureReason {
    public static func classify(_ error: any Error) -> String {
        let text = String(describing: error).uppercased()
        if text.contains("HTTP_REQUEST") || text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTPS_PROXY_REQUEST") {
            return "not_tls"
        }
        if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("PROTOCOL_VERSION") { return "protocol_version" }
        if text.contains("NO_SHARED_CIPHER") || text.contains("NO_CIPHERS") { return "no_shared_cipher" }
        if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") { return "client_certificate_missing" }
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "client_certificate_invalid" }
        if text.contains("ALERT_UNKNOWN_CA") || text.contains("ALERT_BAD_CERTIFICATE")
            || text.contains("ALERT_CERTIFICATE")
        {
            return "certificate_rejected_by_client"
        }
        if text.contains("UNCLEANSHUTDOWN") || text.contains("EOF") { return "eof" }
        return "other"
    }
}
