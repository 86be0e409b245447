import CNSTestSupport
import CNSValidation
import Foundation
import GatewayLogin
import GatewayStorageSQLite
import LoginOutcome
import Testing

/// Single sign-on and fresh logins on a running `cnsgw serve`, driven by curl with a cookie jar.
@Suite(.serialized) struct SessionServeTests {
    typealias Server = ServeCommandTests.Server

    func request(_ server: Server, card: String?, path: String, jar: String, extra: [String] = []) throws -> (status: Int, headers: String, body: String) {
        let headerFile = NSTemporaryDirectory() + "cnsgw-h-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: headerFile) }
        var args = ["-sk", "-o", "-", "-D", headerFile, "-w", "\n%{http_code}", "-b", jar, "-c", jar] + extra
        if let card { args += ["--cert", "\(server.demo)/cards/\(card).pem", "--key", "\(server.demo)/cards/\(card).key"] }
        let r = try runCommand("curl", args + ["https://127.0.0.1:\(server.cardPort)\(path)"])
        let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, headers, r.stdout)
    }

    @Test("an SpidL1 login opens a session bound to the card; the next L1 login skips the card check, L2 and force-fresh logins never do; another card ends it")
    func singleSignOn() async throws {
        let server = try Server()
        defer { server.process.stop() }
        let flow = LoginFlow(storage: try SQLiteGatewayStorage(path: server.data + "/cnsgw.sqlite"))
        let jar = NSTemporaryDirectory() + "cnsgw-jar-\(UUID().uuidString)"
        func start(_ level: SpidLevel, requester: String, forceFresh: Bool = false) async throws -> String {
            try await flow.start(LoginRequest(requester: requester, level: level, attributes: ["fiscalNumber"], forceFresh: forceFresh, returnPath: "/continue")).id
        }
        let mario = "rccmnl83s18d969h"

        let first = try await start(.spidL1, requester: "https://sp1.example.it")
        let page = try request(server, card: mario, path: "/login/card?login=\(first)", jar: jar)
        #expect(page.status == 200)
        let token = page.body.range(of: "name=\"token\" value=\"").map { String(page.body[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
        let consent = try request(server, card: mario, path: "/login/consent", jar: jar, extra: ["--data", "login=\(first)&decision=approve&token=\(token)"])
        #expect(consent.status == 303)
        let cookie = consent.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: cnsgw_sso=") }.map(String.init) ?? ""
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/login", "Max-Age=1800"] { #expect(cookie.contains(attribute), "\(cookie)") }

        // A second L1 login from the same browser and card: straight to the consent page, audited as a session login.
        let second = try await start(.spidL1, requester: "https://sp2.example.it")
        let resumed = try request(server, card: mario, path: "/login/card?login=\(second)", jar: jar)
        // (An unregistered requester is named by its host, never by its whole ID.)
        #expect(resumed.status == 200 && resumed.body.contains("<strong>sp2.example.it</strong>") && !resumed.body.contains("https://sp2.example.it"))
        let audit = { try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout }
        #expect(try audit().contains("\"result\":\"session\""))
        let participants = try await flow.storage.session(id: LoginFlow.sessionID(cookieValue: String(cookie.split(separator: "=").dropFirst().first?.split(separator: ";").first ?? "")))?.participants
        #expect(participants == ["https://sp1.example.it", "https://sp2.example.it"])

        // An L2 login: the card is checked again (a "valid" card-check record, not a session one).
        let sessionLogins = { try audit().components(separatedBy: "\"result\":\"session\"").count }
        let before = try sessionLogins()
        let l2 = try await start(.spidL2, requester: "https://sp3.example.it")
        #expect(try request(server, card: mario, path: "/login/card?login=\(l2)", jar: jar).status == 200)
        #expect(try sessionLogins() == before)
        // A force-fresh L1 login: no session either.
        let fresh = try await start(.spidL1, requester: "https://sp4.example.it", forceFresh: true)
        #expect(try request(server, card: mario, path: "/login/card?login=\(fresh)", jar: jar).status == 200)
        #expect(try sessionLogins() == before)

        // Another card in the same browser ends the session.
        #expect(try runCommand(VerifyCommandTests.binary, ["testpki", "card", server.demo, "--cf", "VRDGPP70C10F205B", "--given-name", "Giuseppe",
                                                            "--surname", "Verdi"]).status == 0)
        let other = try await start(.spidL1, requester: "https://sp5.example.it")
        #expect(try request(server, card: "vrdgpp70c10f205b", path: "/login/card?login=\(other)", jar: jar).status == 200)
        #expect(try audit().contains("\"result\":\"session_ended\""))
        let afterwards = try await start(.spidL1, requester: "https://sp6.example.it")
        #expect(try request(server, card: mario, path: "/login/card?login=\(afterwards)", jar: jar).status == 200)
        #expect(try sessionLogins() == before)
    }

    @Test("a force-fresh login over a connection older than the login is sent to a new connection, never served on the old handshake")
    func forceFreshNeedsNewHandshake() async throws {
        let server = try Server(["--no-demo"], data: nil)
        defer { server.process.stop() }
        // A login that starts after any handshake this test can make: every connection is older than it.
        let future = LoginFlow(storage: try SQLiteGatewayStorage(path: server.data + "/cnsgw.sqlite"), now: { Date() + 120 })
        let login = try await future.start(LoginRequest(requester: "https://sp.example.it", level: .spidL2, attributes: [], returnPath: "/c"))
        let jar = NSTemporaryDirectory() + "cnsgw-jar-\(UUID().uuidString)"
        let r = try request(server, card: nil, path: "/login/card?login=\(login.id)", jar: jar)
        #expect(r.status == 303, "\(r.headers)")
        #expect(r.headers.lowercased().contains("connection: close"))
        #expect(r.headers.lowercased().contains("location: https://127.0.0.1:\(server.cardPort)/login/card?login=\(login.id)"), "\(r.headers)")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"reason\":\"force_fresh\""))
    }
}

/// Revocation through real services: `openssl ocsp` and a CRL over HTTP, both on 127.0.0.1.
@Suite(.serialized) struct RevocationServeTests {
    func cnsgw(_ args: String...) throws -> CommandResult { try runCommand(VerifyCommandTests.binary, args) }

    @Test("OCSP first, then the CRL when the responder is down; crl status shows both sources and the responder's last error")
    func ocspThenCRL() throws {
        let (ocspPort, crlPort) = (LocalService.freePort(), LocalService.freePort())
        let pki = NSTemporaryDirectory() + "cnsgw-ocsp-pki-\(UUID().uuidString)"
        #expect(try cnsgw("testpki", "init", pki, "--ca-name", "Regione Test - CA Cittadini", "--crl-url", "http://127.0.0.1:\(crlPort)/crl.der",
                          "--ocsp-url", "http://127.0.0.1:\(ocspPort)").status == 0)
        for (cf, name, extra) in [("RCCMNL83S18D969H", "Mario", [String]()), ("RSSMRA80A01H501U", "Maria", ["--revoked"]),
                                  ("VRDGPP70C10F205B", "Giuseppe", [])] {
            #expect(try runCommand(VerifyCommandTests.binary, ["testpki", "card", pki, "--cf", cf, "--given-name", name, "--surname", "Test"] + extra).status == 0)
        }
        let ocsp = try LocalService.openSSLOCSP(pkiDirectory: pki, port: ocspPort)
        defer { ocsp.stop() }
        let crlServer = try LocalService.httpServer(directory: pki, port: crlPort)
        defer { crlServer.stop() }
        let server = try ServeCommandTests.Server(["--no-demo"])
        defer { server.process.stop() }
        #expect(try cnsgw("ca", "add", pki + "/ca.pem", "--data-dir", server.data).status == 0)   // default: ocsp-then-crl
        usleep(ServeCommandTests.trustPropagation)

        #expect(try server.login(card: "rccmnl83s18d969h", pki: pki).0 == 200)
        let (revokedStatus, revokedPage) = try server.login(card: "rssmra80a01h501u", pki: pki)
        #expect(revokedStatus == 403 && revokedPage.contains("<code>revoked</code>"))
        ocsp.stop()
        #expect(try server.login(card: "vrdgpp70c10f205b", pki: pki).0 == 200)

        let audit = try cnsgw("audit", "export", "--data-dir", server.data).stdout
        #expect(audit.contains("\"revocation\":\"ocsp/good\"") && audit.contains("\"revocation\":\"ocsp/revoked\"") && audit.contains("\"revocation\":\"crl/good\""),
                "\(audit)")
        sleep(2)   // one refresh round publishes crl-status.json
        let status = try cnsgw("crl", "status", "--data-dir", server.data)
        #expect(status.stdout.contains("http://127.0.0.1:\(crlPort)/crl.der") && status.stdout.contains("ERROR  OCSP http://127.0.0.1:\(ocspPort)"),
                "\(status.stdout)")
        #expect(status.stdout.contains("3 queries, 1 failed") && status.stdout.contains("last error"), "\(status.stdout)")
    }
}

/// The certificate request's CA names: none by default, the trusted CAs (and only those) when turned on.
@Suite(.serialized) struct CertificateRequestTests {
    func acceptableNames(_ port: Int) throws -> String {
        let r = try runCommand("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2"])
        guard let start = r.stdout.range(of: "Acceptable client certificate CA names") ?? r.stdout.range(of: "No client certificate CA names sent") else {
            return r.stdout
        }
        return String(r.stdout[start.lowerBound...].prefix(600))
    }

    @Test("no CA names by default; with --send-ca-names the trusted CAs' names, following ca add without a restart")
    func caNames() throws {
        let quiet = try ServeCommandTests.Server()
        defer { quiet.process.stop() }
        #expect(try acceptableNames(quiet.cardPort).hasPrefix("No client certificate CA names sent"))
        quiet.process.stop()

        let server = try ServeCommandTests.Server(["--send-ca-names"])
        defer { server.process.stop() }
        sleep(1)
        let names = try acceptableNames(server.cardPort)
        #expect(names.contains("CA Cittadini") && !names.contains("ISRG") && !names.contains("DigiCert"), "\(names)")
        let other = NSTemporaryDirectory() + "cnsgw-names-\(UUID().uuidString)"
        #expect(try runCommand(VerifyCommandTests.binary, ["testpki", "init", other, "--ca-name", "Regione Nuova - CA Cittadini"]).status == 0)
        #expect(try runCommand(VerifyCommandTests.binary, ["ca", "add", other + "/ca.pem", "--data-dir", server.data]).status == 0)
        sleep(3)   // the trust watcher's period
        #expect(try acceptableNames(server.cardPort).contains("Regione Nuova - CA Cittadini"))
    }
}
