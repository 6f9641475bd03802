/// `server.http2` (SPEC §7): limits of every HTTP/2 connection the gateway serves (ALPN `h2` on TLS listeners, h2c
/// with prior knowledge on plain listeners with `http2: true`).
///
/// The flood limits are extensions: each is a count per sliding window, and a connection that goes over it gets
/// GOAWAY `ENHANCE_YOUR_CALM` and is closed, without affecting other connections.
public struct HTTP2ServerSettings: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: further streams are refused (RST_STREAM `REFUSED_STREAM`).
    public var maxConcurrentStreams: Int = 100
    /// SETTINGS_MAX_HEADER_LIST_SIZE: a larger header block (HPACK-decoded size) ends the connection.
    public var maxHeaderListBytes: Int = 16 * 1024
    /// Rapid reset (CVE-2023-44487): more than `maxResets` RST_STREAM frames from the client within `resetWindow`.
    public var maxResets: Int = 200
    public var resetWindow: Duration = .seconds(30)
    /// PING and SETTINGS floods: more than `maxControlFrames` PING/SETTINGS/PRIORITY frames within
    /// `controlFrameWindow`.
    public var maxControlFrames: Int = 200
    public var controlFrameWindow: Duration = .seconds(30)

    public init() {}

    public static let keys = [
        "max_concurrent_streams", "max_header_list_bytes", "max_resets", "reset_window", "max_control_frames",
        "control_frame_window",
    ]
}

extension ListenerSettings {
    /// Whether the listener speaks HTTP/2: `http2:` as written, else on for TLS listeners (ALPN offers `h2` and
    /// `http/1.1`) and off for plain ones. Redirecting listeners answer HTTP/1.1 only.
    public var servesHTTP2: Bool {
        guard redirectHTTPS == nil else { return false }
        return http2 ?? (tls != nil)
    }
}
