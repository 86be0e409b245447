import CNSTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Floods, idle connections, TLS suites, the metrics listener and audit checkpoints, on a running `cnsgw serve`.
@Suite(.serialized) struct ListenerHardeningTests {
    typealias Server = ServeCommandTests.Server

    /// A raw TCP connection to 127.0.0.1:`port` that sends nothing.
    static func idleConnection(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        return fd
    }

    /// Whether the server closed the connection (a read returns end of file) within `seconds`.
    static func closedByServer(_ fd: Int32, within seconds: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) <= 0
    }

    @Test("idle and silent connections are closed; past the per-address limit new ones are refused while other addresses still log in")
    func connections() throws {
        let server = try Server(environment: ["CNSGW_LIMITS_HEADER_TIMEOUT=4", "CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=8"])
        defer { server.process.stop() }
        let silent = (0..<20).map { _ in Self.idleConnection(server.cardPort) }
        defer { silent.forEach { close($0) } }
        // Past 8 connections from 127.0.0.1 the listener closes new ones at once, well before the 4 s header timeout.
        // (Which 8 are kept depends on the order the event loops set them up in, so count them all.)
        usleep(2_000_000)
        let closedEarly = silent.filter { Self.closedByServer($0, within: 0.05) }
        #expect(closedEarly.count == 12, "\(closedEarly.count) of 20 connections were closed at once; 12 were past the limit")
        let kept = silent.filter { !closedEarly.contains($0) }
        // Another address (127.0.0.2) still logs in with a card.
        let other = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--interface", "127.0.0.2", "--max-time", "10",
                                            "--cert", "\(server.demo)/cards/rccmnl83s18d969h.pem", "--key", "\(server.demo)/cards/rccmnl83s18d969h.key", server.card])
        #expect(other.stdout == "200", "\(other.stdout) \(other.stderr)")
        // The silent ones within the limit are closed after the header timeout (4 s), not kept for ever.
        let timedOut = kept.filter { Self.closedByServer($0, within: 6) }.count
        #expect(timedOut == 8 && kept.count == 8, "\(timedOut) of \(kept.count) silent connections were closed")
        // Slots are free again: 127.0.0.1 logs in.
        #expect(try server.login(card: "rccmnl83s18d969h").0 == 200)
        let metrics = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/metrics"]).stdout
        #expect(metrics.contains("cnsgw_connections_refused_total") && metrics.contains("cnsgw_connections_timed_out_total"))
    }

    @Test("a flood of authorization requests from one address gets 429 with Retry-After; pending logins and audit records stay bounded")
    func requestFlood() throws {
        let server = try Server(environment: ["CNSGW_LIMITS_REQUESTS_PER_SECOND=1", "CNSGW_LIMITS_REQUEST_BURST=10", "CNSGW_LIMITS_REFUSAL_AUDITS_PER_MINUTE=5"])
        defer { server.process.stop() }
        let gateway = OIDCServeTests.Gateway(server: server)
        try gateway.addClient(["--id", "portale", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb", "--pkce", "optional"])
        usleep(ServeCommandTests.trustPropagation)
        let audit = { try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout.split(separator: "\n").count }
        let before = try audit()
        let url = "\(gateway.issuer)/oidc/authorize?client_id=portale&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s"
        // One line per request: "code retry-after" (bodies after the first also go to stdout: those lines are skipped).
        let flood = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "=%{http_code} %header{retry-after}\n"] + Array(repeating: url, count: 200), timeout: 120)
        let answers = flood.stdout.split(separator: "\n").filter { $0.hasPrefix("=") }.map { $0.dropFirst().split(separator: " ").map(String.init) }
        #expect(answers.count == 200)
        let limited = answers.filter { $0.first == "429" }
        #expect(limited.count >= 150, "only \(limited.count) of 200 were rate-limited")
        #expect(limited.allSatisfy { $0.count == 2 && (Int($0[1]) ?? 0) >= 1 }, "a 429 without Retry-After: \(limited.prefix(3))")
        let pending = try runCommand("sqlite3", [server.data + "/cnsgw.sqlite", "SELECT count(*) FROM pending_login"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((Int(pending) ?? 999) <= 200 - limited.count, "\(pending) pending logins")
        // Each accepted request writes one record; the refusals at most five a minute.
        let grown = try audit() - before
        #expect(grown <= (200 - limited.count) + 6, "the audit log grew by \(grown)")
        let metrics = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/metrics"]).stdout
        #expect(metrics.contains("cnsgw_requests_rate_limited_total") && metrics.contains("cnsgw_audit_refusals_suppressed_total"))
    }

    @Test("TLS 1.2 without forward secrecy or AEAD is refused on both listeners; ECDHE-GCM works, and an RSA-1024 card still logs in over TLS 1.2")
    func cipherSuites() throws {
        let server = try Server()
        defer { server.process.stop() }
        func handshake(_ port: Int, _ cipher: String) throws -> Bool {
            let r = try runCommand("sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -tls1_2 -cipher \(cipher) </dev/null 2>&1"], timeout: 20)
            return r.stdout.contains("Cipher is \(cipher)")
        }
        for port in [server.publicPort, server.cardPort] {
            #expect(try !handshake(port, "AES128-SHA"), "static RSA + CBC accepted on \(port)")
            #expect(try !handshake(port, "AES256-GCM-SHA384"), "static RSA key exchange accepted on \(port)")
            #expect(try handshake(port, "ECDHE-RSA-AES128-GCM-SHA256"), "ECDHE-GCM refused on \(port)")
        }
        #expect(try runCommand(VerifyCommandTests.binary, ["testpki", "card", server.demo, "--cf", "VRDGPP70C10F205B", "--given-name", "Giuseppe",
                                                           "--surname", "Verdi", "--key", "rsa1024"]).status == 0)
        // curl's OpenSSL refuses to load a 1024-bit key at its default security level; s_client lowers it, as old card
        // middleware does.
        let card = "\(server.demo)/cards/vrdgpp70c10f205b"
        let r = try runCommand("sh", ["-c", "printf 'GET /login/card HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -quiet "
                                      + "-connect 127.0.0.1:\(server.cardPort) -tls1_2 -cert \(card).pem -key \(card).key -cipher 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' 2>&1"],
                               timeout: 20)
        #expect(r.stdout.contains("HTTP/1.1 200") && r.stdout.contains("VRDGPP70C10F205B"), "\(r.stdout.suffix(600))")
    }

    @Test("/metrics on its own address when metrics.port is set, not on the public listener; the audit head is checkpointed and a cut log is found")
    func metricsAndCheckpoints() async throws {
        let metricsPort = LocalService.freePort()
        let server = try Server(environment: ["CNSGW_METRICS_PORT=\(metricsPort)", "CNSGW_AUDIT_CHECKPOINT_INTERVAL=1"])
        defer { server.process.stop() }
        for _ in 0..<3 { #expect(try server.login(card: "rccmnl83s18d969h").0 == 200) }
        #expect(try runCommand("curl", ["-s", "http://127.0.0.1:\(metricsPort)/metrics"]).stdout.contains("cnsgw_logins_total"))
        #expect(try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "https://127.0.0.1:\(server.publicPort)/metrics"]).stdout == "404")
        sleep(3)
        let file = server.data + "/audit-checkpoints.jsonl"
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty && lines.last?.contains("\"signature\"") == true)
        #expect(server.process.log.contains("audit checkpoint"))
        #expect(server.process.terminate() == 0)
        let cnsgw = VerifyCommandTests.binary
        let intact = try runCommand(cnsgw, ["audit", "verify", "--checkpoint", file, "--data-dir", server.data])
        #expect(intact.status == 0 && intact.stdout.contains("checkpoint holds"), "\(intact.stdout)\(intact.stderr)")
        // Cut off the newest records: the chain alone is still intact, the checkpoint is not reached.
        #expect(try runCommand("sqlite3", [server.data + "/cnsgw.sqlite", "DELETE FROM audit_log WHERE sequence > (SELECT max(sequence) - 3 FROM audit_log)"]).status == 0)
        #expect(try runCommand(cnsgw, ["audit", "verify", "--data-dir", server.data]).status == 0)
        let cut = try runCommand(cnsgw, ["audit", "verify", "--checkpoint", file, "--data-dir", server.data])
        #expect(cut.status == 1 && cut.stdout.contains("TRUNCATED"), "\(cut.stdout)")
        // A forged checkpoint (another key) is refused.
        var forged = String(lines.last!)
        forged = forged.replacingOccurrences(of: "\"sequence\":", with: "\"sequence\":1000")
        try (forged + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try runCommand(cnsgw, ["audit", "verify", "--checkpoint", file, "--data-dir", server.data]).stdout.contains("SIGNATURE INVALID"))
    }
}
