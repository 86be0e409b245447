import CNSTestSupport
import Foundation
import Testing

/// Load and faults on two instances behind the balancer: concurrent logins, a database restart and a ten-second
/// outage during load, an instance killed mid-login. Each case checks that no refused card ever logs in, that the
/// audit chain stays one intact chain (nothing lost, nothing forked), and that the gateway is up afterwards.
@Suite(.serialized) struct ScaleOutLoadTests {
    static let loadTool = URL(fileURLWithPath: VerifyCommandTests.binary).deletingLastPathComponent().appendingPathComponent("cnsgw-oidc-load").path

    struct Load {
        let process: LocalService
        let output: String
        /// The tool's JSON once it has finished.
        func result(timeout: TimeInterval = 600) throws -> [String: [String: Any]] {
            let deadline = Date() + timeout
            while process.isRunning && Date() < deadline { usleep(200_000) }
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: Any]] else {
                throw ServiceError("the load tool gave no result: \(text.suffix(500)) \(process.log.suffix(1500))")
            }
            return json
        }
    }

    /// Starts `logins` OIDC logins (SPID client, request objects, private_key_jwt) at `clients` concurrent clients through the balancer.
    func load(_ two: TwoInstances, logins: Int, clients: Int = 32) throws -> Load {
        let dir = two.folder + "/load-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try runCommand(Self.loadTool, ["keys", dir]).status == 0)
        try two.admin(["client", "add", "--id", "https://load.example.it", "--redirect-uri", "https://load.example.it/cb", "--jwks", dir + "/client.jwks",
                       "--replace"])
        usleep(500_000)
        let pids = two.instances.map { "\($0.process.pid)" }.joined(separator: ",")
        let output = dir + "/result.json"
        let process = try LocalService(["sh", "-c", "CNSGW_LOAD_LOGINS=\(logins) \"$0\" \"$@\" > \(output)", Self.loadTool, "run", two.issuer, "https://load.example.it",
                                        "https://load.example.it/cb", dir, "\(two.pki)/cards/\(TwoInstances.card).pem", "\(two.pki)/cards/\(TwoInstances.card).key",
                                        "1", "\(clients)", pids], port: 0)
        return Load(process: process, output: output)
    }

    func auditVerify(_ two: TwoInstances) throws -> String {
        let r = try runCommand("/usr/bin/env", ["CNSGW_STORAGE_URL=\(two.url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(two.kek)", VerifyCommandTests.binary, "audit", "verify",
                                                "--data-dir", two.folder + "/admin"])
        #expect(r.status == 0, "audit verify: \(r.stdout) \(r.stderr)")
        return r.stdout
    }

    func ready(_ two: TwoInstances, _ n: Int) -> Int {
        let r = try? runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "https://127.0.0.1:\(two.instances[n].publicPort)/readyz"])
        return Int(r?.stdout ?? "") ?? 0
    }

    @Test("200 concurrent logins over both instances, then one intact audit chain; memory flat")
    func concurrentLogins() throws {
        let two = try TwoInstances()
        defer { two.stop() }
        let rssBefore = (0..<2).map(two.residentKilobytes)
        let result = try load(two, logins: 200).result()
        #expect(result["logins"]?["ok"] as? Int == 200 && result["logins"]?["failed"] as? Int == 0, "\(result)")
        #expect(result["token"]?["ok"] as? Int == 200 && result["token"]?["failed"] as? Int == 0, "\(result)")
        let verified = try auditVerify(two)
        #expect(verified.contains("intact"), "\(verified)")
        let rssAfter = (0..<2).map(two.residentKilobytes)
        print("scale-out: 200 logins, RSS kB before \(rssBefore) after \(rssAfter)")
    }

    @Test("the database restarted and stopped for 10 s during load: clear failures, no refused card accepted, nothing lost, back by itself")
    func databaseOutage() throws {
        let two = try TwoInstances(storageTimeout: 3)
        defer { two.stop() }
        let running = try load(two, logins: 600, clients: 16)
        usleep(2_000_000)
        try two.database.stop(mode: "fast")
        try two.database.start()
        usleep(1_000_000)
        try two.database.stop(mode: "immediate")
        let outage = Date()
        var duringOutage: [(Int, Int, Int)] = []
        var page = ""
        while Date().timeIntervalSince(outage) < 10 {
            // Neither a good nor a revoked card logs in while decisions cannot be recorded (the citizen gets a page that
            // says so); readiness fails.
            let good = two.cardLogin(1)
            page = good.1
            duringOutage.append((ready(two, 0), good.0, two.cardLogin(0, card: TwoInstances.revokedCard).0))
            usleep(1_000_000)
        }
        #expect(page.contains("Servizio momentaneamente non disponibile") && page.contains("storage_unavailable"), "\(page.suffix(600))")
        try two.database.start()
        let result = try running.result()
        #expect(!duringOutage.isEmpty && duringOutage.allSatisfy { $0.0 == 503 && $0.1 == 503 && $0.2 != 200 }, "\(duringOutage)")
        let logins = result["logins"] ?? [:]
        #expect((logins["ok"] as? Int ?? 0) > 0 && (logins["ok"] as? Int ?? 0) + (logins["failed"] as? Int ?? 0) == 600, "\(result)")
        // Back by itself: both ready, a login works on each, the revoked card is still refused.
        var back = false
        for _ in 0..<30 where !back {
            back = ready(two, 0) == 200 && ready(two, 1) == 200
            if !back { usleep(500_000) }
        }
        #expect(back)
        #expect(two.cardLogin(0).0 == 200 && two.cardLogin(1).0 == 200)
        let revoked = two.cardLogin(0, card: TwoInstances.revokedCard)
        #expect(two.cardLogin(1).0 == 200 && revoked.0 == 403)
        #expect(try auditVerify(two).contains("intact"))
    }

    @Test("an instance killed with SIGKILL in the middle of logins: the other finishes what it can, none is half-done, the chain stays whole")
    func instanceKilled() throws {
        let two = try TwoInstances()
        defer { two.stop() }
        let running = try load(two, logins: 400, clients: 16)
        usleep(3_000_000)
        kill(two.instances[0].process.pid, SIGKILL)
        let result = try running.result()
        let logins = result["logins"] ?? [:], tokens = result["token"] ?? [:]
        #expect((logins["ok"] as? Int ?? 0) > 0 && (logins["ok"] as? Int ?? 0) + (logins["failed"] as? Int ?? 0) == 400, "\(result)")
        // Every login that finished gave a code that the surviving instance redeems (none half-written).
        #expect(tokens["ok"] as? Int == logins["ok"] as? Int && tokens["failed"] as? Int == 0, "\(result)")
        #expect(two.cardLogin(1).0 == 200)
        try two.restart(0)
        #expect(two.cardLogin(0).0 == 200)
        #expect(try auditVerify(two).contains("intact"))
    }

    @Test("revocation sources fail during load: the last good CRL is kept, a CRL past nextUpdate fails closed, trust changes break no login")
    func revocationFaults() throws {
        // A CRL valid for 65 s: both instances ask for it again every second (crl.refresh_interval) from the start.
        let two = try TwoInstances(crlValidity: 65)
        defer { two.stop() }
        let port = two.crlServer.port
        func decisions() -> [Int] {
            [two.cardLogin(0).0, two.cardLogin(1).0, two.cardLogin(0, card: TwoInstances.revokedCard).0, two.cardLogin(1, card: TwoInstances.revokedCard).0]
        }
        let running = try load(two, logins: 300, clients: 8)
        usleep(1_500_000)
        // The CRL server answers 500: each instance keeps the CRL it holds (and waits its retry interval before asking
        // again); decisions go on, the revoked card still refused. (A garbage body is kept out the same way:
        // RevocationServiceTests, "bad download keeps the last good copy".)
        two.crlServer.stop()
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(500); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """
        let failing = try LocalService(["python3", "-c", script, "\(port)"], port: port)
        defer { failing.stop() }
        try failing.waitUntilListening()
        // Both instances find the source failing and their CRL status names the failure: the failing server's 500, or
        // the old server closing or resetting the connection when an instance refreshed between the two (its next try is
        // then a minute away, past this wait).
        func namesFailure(_ status: String) -> Bool {
            ["500", "remoteConnectionClosed", "Connection reset", "refused"].contains { status.contains($0) }
        }
        for instance in two.instances {
            var status = ""
            let deadline = Date() + 20
            while !namesFailure(status) && Date() < deadline {
                usleep(250_000)
                status = (try? String(contentsOfFile: instance.data + "/crl-status.json", encoding: .utf8)) ?? ""
            }
            #expect(namesFailure(status), "\(instance.data): \(status.prefix(600))")
        }
        #expect(decisions() == [200, 200, 403, 403])
        // Trust changes during the load: another CA comes and goes; no login of the trusted one fails for it.
        try TwoInstances.cnsgw(["testpki", "init", two.folder + "/other", "--ca-name", "Altra Regione - CA Cittadini"])
        try two.admin(["ca", "add", two.folder + "/other/ca.pem", "--revocation", "none"])
        let other = try two.admin(["ca", "list"]).stdout.split(separator: "\n").first { $0.contains("Altra Regione") }.map { String($0.prefix { $0 != " " }) }
        try two.admin(["ca", "remove", try #require(other)])
        let result = try running.result()
        #expect(result["logins"]?["ok"] as? Int == 300 && result["logins"]?["failed"] as? Int == 0, "\(result)")
        #expect(result["token"]?["failed"] as? Int == 0, "\(result)")

        // The CRL held passes its nextUpdate with no newer one to be had: no card logs in (crl-only without soft-fail:
        // the anchor's policy fails closed), and readiness says why.
        let stale = try #require(two.crlNextUpdate)
        if stale > Date() { usleep(useconds_t((stale.timeIntervalSinceNow + 1.5) * 1_000_000)) }
        #expect(decisions() == [403, 403, 403, 403])
        #expect(ready(two, 0) == 503 && ready(two, 1) == 503)
        #expect(try auditVerify(two).contains("intact"))
    }
}
