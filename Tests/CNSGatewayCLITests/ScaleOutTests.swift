import CNSTestSupport
import Foundation
import Testing

/// Two gateway instances on one PostgreSQL database (see ``TwoInstances``): logins that cross instances at every
/// step with real SAML and OIDC libraries, admin changes seen by both at once, concurrent logins through the
/// balancer with one audit chain, and a database outage.
@Suite(.serialized) struct ScaleOutTests {
    static let router = BrowserTests.repository.appendingPathComponent("Tests/ScaleOut/routed.py").path

    /// Runs a test client with its requests sent where `routes` say; returns its JSON and where each step went.
    func routed(_ routes: [[String: String]], _ arguments: [String]) throws -> (result: [String: Any], steps: [(path: String, to: String)]) {
        let dir = NSTemporaryDirectory() + "cnsgw-route-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: routes).write(to: URL(fileURLWithPath: dir + "/routes.json"))
        let r = try runCommand("python3", [Self.router, dir + "/routes.json", dir + "/log.jsonl"] + arguments, timeout: 120)
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw ServiceError("the routed client failed (\(r.status)): \(r.stdout.suffix(1000)) \(r.stderr.suffix(2000))")
        }
        let log = (try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8)) ?? ""
        let steps = log.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], let p = o["path"], let t = o["to"] else { return nil }
            return (p, t)
        }
        return (object, steps)
    }

    @Test("a login crosses instances at every step (OIDC with authlib, SAML with pysaml2); keys rotate and CAs leave on both at once")
    func crossInstanceLogins() throws {
        let two = try TwoInstances()
        defer { two.stop() }
        let (a, b) = (two.instances[0], two.instances[1])
        let publicA = "https://127.0.0.1:\(a.publicPort)", publicB = "https://127.0.0.1:\(b.publicPort)"
        let cardB = "https://127.0.0.1:\(b.cardPort)"
        let lbPublic = two.issuer, lbCard = "https://127.0.0.1:\(two.balancerCard)"

        // OIDC: authorize on A, card and consent on B, continuation on A, code redeemed on B, userinfo on A.
        let added = try two.admin(["client", "add", "--id", "plain-client", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb"])
        let secret = try #require(added.stdout.split(separator: "\n").first { $0.hasPrefix("client secret") }.map { String($0.split(separator: " ").last!) })
        let oidcRoutes = [["origin": lbPublic, "path": "/oidc/token", "to": publicB], ["origin": lbPublic, "path": "/oidc/introspect", "to": publicB],
                          ["origin": lbPublic, "path": "", "to": publicA], ["origin": lbCard, "path": "", "to": cardB]]
        let card = ["--card-cert", "\(two.pki)/cards/\(TwoInstances.card).pem", "--card-key", "\(two.pki)/cards/\(TwoInstances.card).key"]
        let (oidc, oidcSteps) = try routed(oidcRoutes, [OIDCServeTests.script, "login", "--issuer", lbPublic, "--client-id", "plain-client", "--secret", secret,
                                                        "--redirect-uri", "http://127.0.0.1:9/cb", "--scope", "openid profile"] + card)
        #expect(oidc["exception"] == nil && oidc["state_ok"] as? Bool == true, "\(oidc)")
        let idToken = oidc["id_token"] as? [String: Any]
        #expect(idToken?["iss"] as? String == lbPublic && idToken?["acr"] as? String == "https://www.spid.gov.it/SpidL2", "\(oidc)")
        let userinfo = (oidc["userinfo"] as? [String: Any])?["claims"] as? [String: Any]
        #expect(userinfo?["given_name"] as? String == "Mario", "\(oidc)")
        let served = Dictionary(oidcSteps.map { ($0.path, $0.to) }, uniquingKeysWith: { first, _ in first })
        #expect(served["/oidc/authorize"] == publicA && served["/login/card"] == cardB && served["/login/consent"] == cardB, "\(oidcSteps)")
        #expect(served["/oidc/continue"] == publicA && served["/oidc/token"] == publicB && served["/oidc/userinfo"] == publicA, "\(oidcSteps)")

        // SAML: the AuthnRequest on A, card and consent on B, the continuation (the signed Response) on B as well.
        let sp = SAMLServeTests.SP(lib: "pysaml2", entityID: "https://comune.example.it/sp", acs: "https://127.0.0.1:9/acs", key: two.folder + "/sp.key",
                                   cert: two.folder + "/sp.crt")
        #expect(try runCommand("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", sp.key, "-out", sp.cert, "-days", "30",
                                           "-subj", "/CN=test SP"]).status == 0)
        try runCommand("python3", sp.arguments("metadata") + ["--spid"]).stdout.write(toFile: two.folder + "/sp.xml", atomically: true, encoding: .utf8)
        try two.admin(["sp", "add", two.folder + "/sp.xml"])
        let samlRoutes = [["origin": lbPublic, "path": "/saml/sso", "to": publicA], ["origin": lbPublic, "path": "", "to": publicB],
                          ["origin": lbCard, "path": "", "to": cardB]]
        let (saml, samlSteps) = try routed(samlRoutes, sp.arguments("login") + ["--idp-metadata", lbPublic + "/saml/metadata"] + card)
        #expect(saml["authn_context"] as? String == "https://www.spid.gov.it/SpidL2", "\(saml)")
        #expect((saml["attributes"] as? [String: [String]])?["fiscalNumber"] == ["TINIT-RCCMNL83S18D969H"], "\(saml)")
        let samlServed = Dictionary(samlSteps.map { ($0.path, $0.to) }, uniquingKeysWith: { first, _ in first })
        #expect(samlServed["/saml/sso"] == publicA && samlServed["/login/card"] == cardB && samlServed["/saml/continue"] == publicB, "\(samlSteps)")

        // Key rotation: both instances publish the new keys within a second.
        func kids(_ origin: String) throws -> Set<String> {
            let r = try runCommand("curl", ["-sk", "--max-time", "10", origin + "/oidc/jwks"])
            let keys = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["keys"] as? [[String: Any]] ?? []
            return Set(keys.compactMap { $0["kid"] as? String })
        }
        let before = try kids(publicA)
        #expect(try kids(publicB) == before && !before.isEmpty)
        try two.admin(["keys", "rotate"])
        // Within a second (the keyrings' own polling would take up to five: this is the change notification).
        usleep(1_000_000)
        let after = try kids(publicA)
        #expect(after.count > before.count && after.isSuperset(of: before), "A: \(before) → \(after)")
        #expect(try kids(publicB) == after, "B publishes what A publishes")

        // A CA removed on one machine stops the card on both within a second.
        #expect(two.cardLogin(0).0 == 200 && two.cardLogin(1).0 == 200)
        let id = try two.admin(["ca", "list"]).stdout.split(separator: " ").first.map(String.init) ?? ""
        try two.admin(["ca", "remove", id])
        usleep(500_000)
        #expect(two.cardLogin(0).0 == 403 && two.cardLogin(1).0 == 403)
    }
}

extension ScaleOutTests {
    @Test("the embedded default moves to PostgreSQL: everything copied once, the chain verifies, the same keys sign, a second copy is refused")
    func migrateEmbeddedDefault() throws {
        let embedded = try ServeCommandTests.Server()
        let (status, _) = try embedded.login(card: "rccmnl83s18d969h")
        #expect(status == 200)
        let jwks = try runCommand("curl", ["-sk", "https://127.0.0.1:\(embedded.publicPort)/oidc/jwks"]).stdout
        _ = embedded.process.terminate(timeout: 20)
        let before = try runCommand(VerifyCommandTests.binary, ["audit", "verify", "--data-dir", embedded.data]).stdout

        let database = try PostgresServer()
        defer { database.destroy() }
        let url = try database.createDatabase()
        let migrate = ["storage", "migrate", "--from", "sqlite:\(embedded.data)/cnsgw.sqlite", "--to", url]
        let copied = try runCommand(VerifyCommandTests.binary, migrate)
        #expect(copied.status == 0 && copied.stdout.contains("audit log intact") && copied.stdout.contains("trusted_ca: 1"), "\(copied.stdout) \(copied.stderr)")
        let again = try runCommand(VerifyCommandTests.binary, migrate)
        #expect(again.status == 2 && again.stderr.contains("already holds gateway records"), "\(again.stdout) \(again.stderr)")
        #expect(try runCommand(VerifyCommandTests.binary, migrate + ["--replace"]).status == 0)

        let kek = try #require(FileManager.default.contents(atPath: embedded.data + "/keys.kek")).base64EncodedString()
        let shared = ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(kek)"]
        let after = try runCommand("/usr/bin/env", shared + [VerifyCommandTests.binary, "audit", "verify", "--data-dir", embedded.data + "-admin"])
        #expect(after.status == 0 && after.stdout == before, "SQLite: \(before) PostgreSQL: \(after.stdout) \(after.stderr)")
        // A wrong key-encryption key opens nothing.
        let wrong = try runCommand("/usr/bin/env", ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(Data(repeating: 7, count: 32).base64EncodedString())",
                                                   VerifyCommandTests.binary, "ca", "list", "--data-dir", embedded.data + "-admin"])
        #expect(wrong.status != 0)

        let moved = try ServeCommandTests.Server(["--no-demo"], data: embedded.data + "-postgres", environment: shared)
        defer { moved.process.stop() }
        #expect(try moved.login(card: "rccmnl83s18d969h", pki: embedded.demo).0 == 200)
        #expect(try moved.login(card: "rssmra80a01h501u", pki: embedded.demo).0 == 403)
        #expect(try runCommand("curl", ["-sk", "https://127.0.0.1:\(moved.publicPort)/oidc/jwks"]).stdout == jwks, "the same signing keys")
    }
}
