import CNSTestSupport
import CNSValidation
import Foundation
import GatewayServer
import OutboundHTTP
import Testing

/// The gateway's outbound HTTP against real servers on 127.0.0.1: redirects are not followed (the target never sees
/// a request), bodies are cut at the limit, internal addresses are refused unless allowed.
@Suite(.serialized) struct OutboundRequestTests {
    /// A small HTTP server: /redirect answers 302 to `target`, /big sends `size` bytes, /ok sends "ok"; every request
    /// path is logged.
    static let server = """
        import http.server, sys
        port, target, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                print("GET", self.path, flush=True)
                if self.path == "/redirect":
                    self.send_response(302); self.send_header("Location", target); self.send_header("Content-Length", "0"); self.end_headers()
                elif self.path == "/big":
                    self.send_response(200); self.end_headers(); self.wfile.write(b"x" * size)
                else:
                    body = b"ok"; self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            do_POST = do_GET
        http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    @Test("no redirects, bounded bodies, internal addresses refused unless allowed")
    func guardedTransport() async throws {
        let internalPort = LocalService.freePort(), port = LocalService.freePort()
        let internalService = try LocalService(["python3", "-c", Self.server, "\(internalPort)", "-", "0"], port: internalPort)
        defer { internalService.stop() }
        let service = try LocalService(["python3", "-c", Self.server, "\(port)", "http://127.0.0.1:\(internalPort)/internal-admin", "3000000"], port: port)
        defer { service.stop() }
        try internalService.waitUntilListening()
        try service.waitUntilListening()

        let strict = GuardedHTTPTransport(allowPrivateAddresses: false)
        let allowed = GuardedHTTPTransport(allowPrivateAddresses: true)
        await #expect { _ = try await strict.get(url: "http://127.0.0.1:\(port)/ok", ifNoneMatch: nil, ifModifiedSince: nil, timeout: Self.deadline, maximumBytes: 1000) }
            throws: { "\($0)".contains("internal address") }
        await #expect(throws: HTTPTransportError.self) {
            _ = try await strict.post(url: "http://[::1]:\(port)/ok", body: [], contentType: "text/plain", accept: "*/*", timeout: Self.deadline, maximumBytes: 1000)
        }

        guard case .body(let ok, _, _) = try await allowed.get(url: "http://127.0.0.1:\(port)/ok", ifNoneMatch: nil, ifModifiedSince: nil,
                                                              timeout: Self.deadline, maximumBytes: 1000) else { Issue.record("no body"); return }
        #expect(ok == Array("ok".utf8))
        await #expect { _ = try await allowed.post(url: "http://127.0.0.1:\(port)/redirect", body: Array("logout_token=x".utf8),
                                                   contentType: "application/x-www-form-urlencoded", accept: "*/*", timeout: Self.deadline, maximumBytes: 1000) }
            throws: { "\($0)".contains("redirects are not followed") }
        await #expect { _ = try await allowed.get(url: "http://127.0.0.1:\(port)/big", ifNoneMatch: nil, ifModifiedSince: nil, timeout: Self.deadline, maximumBytes: 100_000) }
            throws: { "\($0)".contains("more than 100000 bytes") }
        usleep(200_000)
        #expect(service.log.contains("GET /redirect") && !internalService.log.contains("internal-admin"), "the redirect was followed: \(internalService.log)")
    }

    @Test("a server that accepts and then says nothing: the error names the pause, not the caller's deadline")
    func silentServer() async throws {
        let port = LocalService.freePort()
        let silent = try LocalService.silentServer(port: port)
        defer { silent.stop() }
        let started = Date()
        await #expect { _ = try await GuardedHTTPTransport(allowPrivateAddresses: true).get(url: "http://127.0.0.1:\(port)/crl", ifNoneMatch: nil,
                                                                                         ifModifiedSince: nil, timeout: 60, maximumBytes: 1000) }
            throws: { "\($0)".contains("did not answer: it sent nothing for 10 s") }
        #expect(Date().timeIntervalSince(started) < 30)
    }

    /// Generous: the whole suite runs in parallel on two cores, and what is checked here is where requests go and how
    /// much is read, not how fast a single-threaded Python server answers.
    static let deadline: TimeInterval = 30

    @Test("internal address ranges")
    func ranges() {
        for address in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1"] {
            #expect(GuardedHTTPTransport.isInternal(address), "\(address)")
        }
        for address in ["93.184.216.34", "172.32.0.1", "8.8.8.8", "2001:4860:4860::8888"] {
            #expect(!GuardedHTTPTransport.isInternal(address), "\(address)")
        }
    }
}
