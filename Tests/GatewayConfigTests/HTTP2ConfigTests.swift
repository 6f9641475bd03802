import Testing

@testable import GatewayConfig

/// `server.http2` and the listeners' `http2` flag (SPEC §7).
@Suite struct HTTP2ConfigTests {
    func load(_ yaml: String) throws -> GatewayConfiguration {
        try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: [:])
    }

    func failure(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func defaults() throws {
        let settings = try load("server: { listen: 127.0.0.1:8080 }").server.http2
        #expect(settings.maxConcurrentStreams == 100)
        #expect(settings.maxHeaderListBytes == 16 * 1024)
        #expect(settings.maxResets == 200 && settings.resetWindow == .seconds(30))
        #expect(settings.maxControlFrames == 200 && settings.controlFrameWindow == .seconds(30))
    }

    @Test func everyKey() throws {
        let settings = try load("""
            server:
              http2:
                max_concurrent_streams: 250
                max_header_list_bytes: 32KiB
                max_resets: 40
                reset_window: 5s
                max_control_frames: 60
                control_frame_window: 1m
            """).server.http2
        #expect(settings.maxConcurrentStreams == 250)
        #expect(settings.maxHeaderListBytes == 32 * 1024)
        #expect(settings.maxResets == 40 && settings.resetWindow == .seconds(5))
        #expect(settings.maxControlFrames == 60 && settings.controlFrameWindow == .seconds(60))
    }

    @Test func badValuesNameTheLineAndKey() {
        let zero = failure("""
            server:
              http2:
                max_concurrent_streams: 0
            """)
        #expect(zero.contains("gateway.yaml:3") && zero.contains("max_concurrent_streams"))
        let unknown = failure("""
            server:
              http2: { max_streams: 5 }
            """)
        #expect(unknown.contains("gateway.yaml:2") && unknown.contains("max_streams"))
        let window = failure("""
            server:
              http2: { reset_window: soon }
            """)
        #expect(window.contains("reset_window"))
        let size = failure("""
            server:
              http2: { max_header_list_bytes: lots }
            """)
        #expect(size.contains("max_header_list_bytes"))
        #expect(failure("server: { http2: [1, 2] }").contains("server.http2"))
    }

    @Test func listenerDefaultsAreOnForTLSAndOffForPlain() throws {
        let server = try load("""
            server:
              listen: 127.0.0.1:8080
              listeners:
                - address: 127.0.0.1:8443
                  tls: { certificates: [{ cert: a.pem, key: a-key.pem }] }
                - address: 127.0.0.1:8444
                  tls: { certificates: [{ cert: a.pem, key: a-key.pem }] }
                  http2: false
                - address: 127.0.0.1:8081
                  http2: true
                - address: 127.0.0.1:8082
                  redirect_https: 8443
                  http2: true
            """).server
        #expect(server.effectiveListeners.map(\.servesHTTP2) == [false, true, false, true, false])
    }
}
