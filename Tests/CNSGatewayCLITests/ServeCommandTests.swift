import CNSTestSupport
import CNSValidation
import Foundation
import GatewayLogin
import GatewayStorageSQLite
import Testing

/// `cnsgw serve` with its embedded default, driven by curl with client certificates over real TLS.
@Suite(.serialized) struct ServeCommandTests {
    func cnsgw(_ args: String...) throws -> CommandResult { try runCommand(VerifyCommandTests.binary, args) }
    /// A running gateway reads the trusted CAs again at most a second after its last read.
    static let trustPropagation: useconds_t = 1_200_000

    struct Server {
        let process: LocalService
        let data: String
        let publicPort: Int
        let cardPort: Int
        var card: String { "https://127.0.0.1:\(cardPort)/login/card" }
        var demo: String { data + "/demo-pki" }

        /// `environment`: `NAME=value` settings for the server process.
        init(_ extra: [String] = [], data: String? = nil, ports: (Int, Int)? = nil, environment: [String] = []) throws {
            self.data = data ?? NSTemporaryDirectory() + "cnsgw-serve-\(UUID().uuidString)"
            publicPort = ports?.0 ?? LocalService.freePort()
            cardPort = ports?.1 ?? LocalService.freePort()
            // The tests' OCSP responders, metadata, JWKS and back-channel receivers listen on 127.0.0.1.
            let allowance = environment.contains { $0.hasPrefix("CNSGW_OUTBOUND_ALLOW_PRIVATE_ADDRESSES=") } ? [] : ["CNSGW_OUTBOUND_ALLOW_PRIVATE_ADDRESSES=true"]
            let launcher = ["/usr/bin/env"] + allowance + environment
            process = try LocalService(launcher + [VerifyCommandTests.binary, "serve", "--data-dir", self.data, "--public-port", "\(publicPort)",
                                        "--card-port", "\(cardPort)", "--crl-refresh-interval", "1"] + extra, port: cardPort)
            try process.waitUntilListening(timeout: 60)
        }

        /// curl against the card listener, optionally with a card's certificate and key: (status, body).
        func login(card name: String? = nil, pki: String? = nil, extra: [String] = []) throws -> (Int, String) {
            var args = ["-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"] + extra
            if let name { args += ["--cert", "\(pki ?? demo)/cards/\(name).pem", "--key", "\(pki ?? demo)/cards/\(name).key"] }
            let r = try runCommand("curl", args + [card])
            let status = Int(r.stdout.split(separator: "\n").last ?? "") ?? 0
            return (status, r.stdout)
        }
    }

    @Test("embedded default: health, the card login with valid, revoked, expired, foreign and missing certificates, audited")
    func cardLogin() throws {
        let server = try Server()
        defer { server.process.stop() }
        let health = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/healthz"])
        #expect(health.stdout == "ok\n")
        // The gateway allocates through jemalloc (linked on Linux, see Package.swift) unless built with the C library's.
        if ProcessInfo.processInfo.environment["CNSGW_SYSTEM_MALLOC"] != "1" {
            let maps = try String(contentsOfFile: "/proc/\(server.process.pid)/maps", encoding: .utf8)
            #expect(maps.contains("libjemalloc"), "cnsgw serve does not run on jemalloc")
        }
        let ready = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/readyz"])
        #expect(ready.stdout.contains("ready: 1 trusted CAs"), "\(ready.stdout)")

        // Oversized input is refused before any handler runs.
        let hugeHeader = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Filler: " + String(repeating: "a", count: 100_000),
                                                 "https://127.0.0.1:\(server.publicPort)/healthz"])
        #expect(hugeHeader.stdout != "200", "\(hugeHeader.stdout)")
        let bigBody = NSTemporaryDirectory() + "cnsgw-body-\(UUID().uuidString)"
        try Data(repeating: 0x61, count: 200_000).write(to: URL(fileURLWithPath: bigBody))
        let oversized = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--cert", server.demo + "/cards/rccmnl83s18d969h.pem",
                                                "--key", server.demo + "/cards/rccmnl83s18d969h.key", "--data-binary", "@" + bigBody,
                                                "https://127.0.0.1:\(server.cardPort)/login/consent"])
        #expect(oversized.stdout == "413", "\(oversized.stdout)")
        let (unknownStatus, _) = try server.login(extra: ["-X", "POST", "--data-binary", "x"])
        #expect(unknownStatus == 405 || unknownStatus == 404)

        // No TLS session resumption on the card listener: every reconnection is a full handshake asking for the card, and
        // no session ticket is sent (the one shared TLS context has tickets and its session cache off).
        for version in ["-tls1_2", "-tls1_3"] {
            let reconnect = try runCommand("openssl", ["s_client", "-connect", "127.0.0.1:\(server.cardPort)", version, "-reconnect", "-msg",
                                                       "-cert", server.demo + "/cards/rccmnl83s18d969h.pem", "-key", server.demo + "/cards/rccmnl83s18d969h.key"])
            let handshakes = reconnect.stdout.split(separator: "\n").filter { $0.hasPrefix("New,") || $0.hasPrefix("Reused,") }
            #expect(handshakes.count == 6 && handshakes.allSatisfy { $0.hasPrefix("New,") }, "\(version): \(handshakes)")
            #expect(reconnect.stdout.contains("CertificateRequest") && !reconnect.stdout.contains("NewSessionTicket"), "\(version)")
        }

        // The server's RSA key signs through OpenSSL (OpenSSLServerKey): every scheme it offers gives a signature the
        // client accepts (a bad one ends the handshake with an alert, and no "New," line).
        for (version, scheme, type, digest) in [("-tls1_3", "rsa_pss_rsae_sha256", "RSA-PSS", "SHA256"), ("-tls1_3", "rsa_pss_rsae_sha384", "RSA-PSS", "SHA384"),
                                                ("-tls1_3", "rsa_pss_rsae_sha512", "RSA-PSS", "SHA512"), ("-tls1_2", "RSA+SHA256", "RSA", "SHA256"),
                                                ("-tls1_2", "RSA+SHA384", "RSA", "SHA384"), ("-tls1_2", "RSA+SHA512", "RSA", "SHA512")] {
            let signed = try runCommand("openssl", ["s_client", "-connect", "127.0.0.1:\(server.cardPort)", version, "-sigalgs", scheme,
                                                    "-cert", server.demo + "/cards/rccmnl83s18d969h.pem", "-key", server.demo + "/cards/rccmnl83s18d969h.key"])
            #expect(signed.stdout.contains("Peer signature type: \(type)") && signed.stdout.contains("Peer signing digest: \(digest)")
                    && signed.stdout.contains("\nNew, TLSv1."), "\(version) \(scheme): \(signed.stdout.suffix(400))")
        }

        let help = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/help"]).stdout
        for fact in ["PUK", "ASL", "farmacia", "ID2019", "AC2013", "Agenzia delle Entrate", "lang=\"it\""] { #expect(help.contains(fact), "help lacks \(fact)") }
        let helpEN = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/help?lang=en"]).stdout
        #expect(helpEN.contains("three wrong PINs") && helpEN.contains("href=\"/help?lang=it\""))
        #expect(!help.contains("<script") && !help.contains("http://") && !help.contains("//cdn"))

        let (noCertStatus, noCert) = try server.login()
        #expect(noCertStatus == 401 && noCert.contains("Nessun certificato presentato"))
        let (_, english) = try server.login(extra: ["-H", "Accept-Language: en-GB,en;q=0.8"])
        #expect(english.contains("No certificate presented") && english.contains("lang=\"en\""))

        let (okStatus, ok) = try server.login(card: "rccmnl83s18d969h")
        #expect(okStatus == 200 && ok.contains("RCCMNL83S18D969H") && ok.contains("Carta riconosciuta"), "\(ok)")
        let (tls12Status, _) = try server.login(card: "rccmnl83s18d969h", extra: ["--tls-max", "1.2"])
        #expect(tls12Status == 200)
        let (revokedStatus, revoked) = try server.login(card: "rssmra80a01h501u")
        #expect(revokedStatus == 403 && revoked.contains("<code>revoked</code>"))

        #expect(try cnsgw("testpki", "card", server.demo, "--cf", "BNCLRA90B68H501Z", "--given-name", "Laura", "--surname", "Bianchi", "--expired").status == 0)
        let (expiredStatus, expired) = try server.login(card: "bnclra90b68h501z")
        #expect(expiredStatus == 403 && expired.contains("<code>expired</code>"))

        let foreign = NSTemporaryDirectory() + "cnsgw-foreign-\(UUID().uuidString)"
        #expect(try cnsgw("testpki", "init", foreign, "--ca-name", "Regione Altrove - CA Cittadini").status == 0)
        #expect(try cnsgw("testpki", "card", foreign, "--cf", "RCCMNL83S18D969H", "--given-name", "Mario", "--surname", "Rossi").status == 0)
        let (foreignStatus, foreignPage) = try server.login(card: "rccmnl83s18d969h", pki: foreign)
        #expect(foreignStatus == 403 && foreignPage.contains("<code>untrusted</code>"))

        let export = try cnsgw("audit", "export", "--data-dir", server.data)
        let logins = export.stdout.split(separator: "\n").filter { $0.contains("\"kind\":\"login\"") }
        #expect(logins.count == 7, "\(export.stdout)")
        #expect(logins.contains { $0.contains("\"reason\":\"revoked\"") && $0.contains("\"result\":\"refused\"") })
        #expect(logins.contains { $0.contains("\"codiceFiscale\":\"RCCMNL83S18D969H\"") && $0.contains("\"result\":\"valid\"") })
        #expect(try cnsgw("audit", "verify", "--data-dir", server.data).status == 0)
        sleep(2)   // one refresh round publishes crl-status.json
        let crlStatus = try cnsgw("crl", "status", "--data-dir", server.data)
        #expect(crlStatus.status == 0 && crlStatus.stdout.contains("ok") && crlStatus.stdout.contains("demo-pki/crl.der"), "\(crlStatus.stdout)\(crlStatus.stderr)")
        let metrics = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/metrics"]).stdout
        #expect(metrics.contains("cnsgw_crl_age_seconds"))
        #expect(metrics.contains(#"cnsgw_logins_total{result="refused",reason="revoked",level="none"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"cnsgw_logins_total{result="valid",reason="none",level="SpidL2"} 2"#))
        #expect(metrics.contains("cnsgw_card_validation_duration_seconds_count"))

        // A forwarded-certificate header from an address that is not a trusted proxy: refused and audited.
        let pem = try String(contentsOfFile: server.demo + "/cards/rccmnl83s18d969h.pem", encoding: .utf8)
        let (forgedStatus, forged) = try server.login(extra: ["-H", "X-SSL-Client-Cert: " + pem.replacingOccurrences(of: "\n", with: " ")])
        #expect(forgedStatus == 403 && forged.contains("Richiesta non accettata"))
        #expect(try cnsgw("audit", "export", "--data-dir", server.data).stdout.contains("forged_proxy_header"))
    }

    @Test("behind a trusted reverse proxy: the configured header (RFC 9440 here) only, always validated again; nginx's header refused")
    func trustedProxy() throws {
        let server = try Server(["--trusted-proxy", "127.0.0.1", "--proxy-certificate-header", "rfc9440"])
        defer { server.process.stop() }
        func der(_ card: String) throws -> Data {
            let pem = try String(contentsOfFile: server.demo + "/cards/\(card).pem", encoding: .utf8)
            let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            return try #require(Data(base64Encoded: body))
        }
        let pem = try String(contentsOfFile: server.demo + "/cards/rccmnl83s18d969h.pem", encoding: .utf8)
        let rfc9440 = try server.login(extra: ["-H", "Client-Cert: :\(try der("rccmnl83s18d969h").base64EncodedString()):"])
        #expect(rfc9440.0 == 200 && rfc9440.1.contains("RCCMNL83S18D969H"), "\(rfc9440.1)")
        // Not the header this gateway reads: refused, never read, even beside the configured one.
        let nginx = try server.login(extra: ["-H", "X-SSL-Client-Cert: " + pem.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!])
        #expect(nginx.0 == 403 && !nginx.1.contains("RCCMNL83S18D969H"))
        let both = try server.login(extra: ["-H", "X-SSL-Client-Cert: " + pem.replacingOccurrences(of: "\n", with: " "),
                                            "-H", "Client-Cert: :\(try der("rccmnl83s18d969h").base64EncodedString()):"])
        #expect(both.0 == 403)
        let revoked = try server.login(extra: ["-H", "Client-Cert: :\(try der("rssmra80a01h501u").base64EncodedString()):"])
        #expect(revoked.0 == 403 && revoked.1.contains("<code>revoked</code>"))
        let garbage = try server.login(extra: ["-H", "Client-Cert: :bm90IGEgY2VydA==:"])
        #expect(garbage.0 == 403 && garbage.1.contains("<code>malformed</code>"))
        let notSequence = try server.login(extra: ["-H", "Client-Cert: MIIB"])
        #expect(notSequence.0 == 403)
        let export = try cnsgw("audit", "export", "--data-dir", server.data).stdout
        #expect(export.contains("\"via\":\"proxy\""))
    }

    @Test("ca remove / ca add reach a running gateway without a restart; SIGTERM stops it cleanly")
    func liveTrustChanges() throws {
        let server = try Server()
        defer { server.process.stop() }
        #expect(try server.login(card: "rccmnl83s18d969h").0 == 200)
        let list = try cnsgw("ca", "list", "--data-dir", server.data, "--json")
        let id = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        #expect(try cnsgw("ca", "remove", id, "--data-dir", server.data).status == 0)
        usleep(Self.trustPropagation)
        let (status, page) = try server.login(card: "rccmnl83s18d969h")
        #expect(status == 403 && page.contains("<code>untrusted</code>"))
        #expect(try cnsgw("ca", "add", server.demo + "/ca.pem", "--data-dir", server.data, "--revocation", "crl-only",
                          "--crl", server.demo + "/crl.der").status == 0)
        usleep(Self.trustPropagation)
        #expect(try server.login(card: "rccmnl83s18d969h").0 == 200)
        #expect(server.process.terminate() == 0)
    }

    @Test("a front end's pending login: card, consent page, redirect; replay, another card, unknown id and level too low refused; a restart keeps the login")
    func pendingLoginFlow() async throws {
        var server = try Server()
        defer { server.process.stop() }
        let flow = LoginFlow(storage: try SQLiteGatewayStorage(path: server.data + "/cnsgw.sqlite"))
        let request = LoginRequest(requester: "https://comune.example.it/sp", level: .spidL2,
                                   attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth", "placeOfBirth"], returnPath: "/saml/continue")
        let login = try await flow.start(request)
        var tokens: [String: String] = [:]   // the consent form's token per login, as the card page gave it
        func card(_ name: String, _ query: String) throws -> (Int, String) {
            let r = try runCommand("curl", ["-sk", "-o", "-", "-w", "\n%{http_code}", "--cert", "\(server.demo)/cards/\(name).pem",
                                            "--key", "\(server.demo)/cards/\(name).key", "https://127.0.0.1:\(server.cardPort)/login/card?\(query)"])
            if let start = r.stdout.range(of: "name=\"token\" value=\"") {
                tokens[query.replacingOccurrences(of: "login=", with: "")] = String(r.stdout[start.upperBound...].prefix { $0 != "\"" })
            }
            return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, r.stdout)
        }
        func consent(_ name: String, _ id: String, _ decision: String = "approve") throws -> (Int, String) {
            let r = try runCommand("curl", ["-sk", "-o", "-", "-D", "-", "-w", "\n%{http_code}", "--cert", "\(server.demo)/cards/\(name).pem",
                                            "--key", "\(server.demo)/cards/\(name).key", "--data", "login=\(id)&decision=\(decision)&token=\(tokens[id] ?? "")",
                                            "https://127.0.0.1:\(server.cardPort)/login/consent"])
            return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, r.stdout)
        }
        let (status, page) = try card("rccmnl83s18d969h", "login=\(login.id)")
        // An unregistered requester is named by its host, never by its whole ID; the place of birth with its province.
        #expect(status == 200 && page.contains("<strong>comune.example.it</strong>") && !page.contains("https://comune.example.it/sp")
                && page.contains("Genova (GE)") && page.contains("Acconsento"), "\(page)")
        #expect(page.contains("name=\"decision\" value=\"approve\"") && !page.contains("<script"))

        // The gateway restarts between the card and the consent: the login survives.
        #expect(server.process.terminate() == 0)
        server = try Server(data: server.data, ports: (server.publicPort, server.cardPort))
        let (redirect, headers) = try consent("rccmnl83s18d969h", login.id)
        #expect(redirect == 303, "\(headers)")
        #expect(headers.lowercased().contains("location: https://127.0.0.1:\(server.publicPort)/saml/continue?login=\(login.id)&continuation="))
        #expect(try await flow.storage.pendingLogin(id: login.id)?.state == .completed)
        #expect(try consent("rccmnl83s18d969h", login.id).0 == 400)   // replayed consent

        // Consent with another card than the one checked.
        #expect(try cnsgw("testpki", "card", server.demo, "--cf", "VRDGPP70C10F205B", "--given-name", "Giuseppe", "--surname", "Verdi").status == 0)
        let second = try await flow.start(request)
        #expect(try card("rccmnl83s18d969h", "login=\(second.id)").0 == 200)
        #expect(try consent("vrdgpp70c10f205b", second.id).0 == 400)
        #expect(try consent("rccmnl83s18d969h", second.id, "deny").1.contains("Accesso annullato"))

        #expect(try card("rccmnl83s18d969h", "login=does-not-exist").0 == 400)
        var l3 = request
        l3.level = .spidL3
        let third = try await flow.start(l3)
        let (levelStatus, levelPage) = try card("rccmnl83s18d969h", "login=\(third.id)")
        #expect(levelStatus == 403 && levelPage.contains("SpidL3"))
        let audit = try cnsgw("audit", "export", "--data-dir", server.data).stdout
        for reason in ["consented", "wrong_state", "different_card", "denied", "session_expired", "level_too_low"] {
            #expect(audit.contains(reason), "\(reason) not audited")
        }
    }
}
