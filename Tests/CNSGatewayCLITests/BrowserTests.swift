import CNSTestSupport
import CNSValidation
import Foundation
import GatewayLogin
import GatewayStorageSQLite
import Testing

/// A real browser: Debian's headless Chromium with a demo card in its NSS database, selected by a profile rule,
/// logs in through the card listener and approves on the consent page. Screenshots go to a temporary folder (or
/// `SCREENSHOTS_DIR`); `scripts/screenshots.sh` refreshes the README's pictures in docs/screenshots.
@Suite(.serialized) struct BrowserTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Tests/Browser/card_login.py").path
    static let screenshots = ProcessInfo.processInfo.environment["SCREENSHOTS_DIR"] ?? NSTemporaryDirectory() + "cnsgw-screenshots-\(UUID().uuidString)"

    struct Seen: Decodable {
        struct Page: Decodable { let url: String; let text: String; let lang: String? }
        struct Consent: Decodable { let url: String; let text: String }
        struct After: Decodable { let url: String }
        let pages: [String: Page]
        let consent: Consent?
        let reloaded: Consent?
        let switched: Consent?
        let after_consent: After?
    }

    func browse(_ arguments: [String]) throws -> Seen {
        let r = try runCommand("python3", [Self.script, "--out", Self.screenshots] + arguments, timeout: 180)
        guard r.status == 0 else { throw ServiceError("the browser run failed (\(r.status)): \(r.stderr.suffix(2000))") }
        return try JSONDecoder().decode(Seen.self, from: Data(r.stdout.utf8))
    }

    /// A SPID SP whose metadata names the service in Italian and English (`mdui:DisplayName`), registered with the gateway.
    static func namedServiceProvider(_ server: ServeCommandTests.Server) throws -> String {
        let (sp, dir) = try SAMLServeTests.spidProvider(server)
        let names = #"<ns0:Extensions><mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"><mdui:DisplayName xml:lang="it">Servizi online del Comune</mdui:DisplayName><mdui:DisplayName xml:lang="en">Town council online services</mdui:DisplayName></mdui:UIInfo></ns0:Extensions>"#
        let metadata = try runCommand("python3", sp.arguments("metadata") + ["--spid"]).stdout
            .replacingOccurrences(of: #"(<ns0:SPSSODescriptor[^>]*>)"#, with: "$1" + names, options: .regularExpression)
        try metadata.write(toFile: dir + "/named.xml", atomically: true, encoding: .utf8)
        let added = try runCommand(VerifyCommandTests.binary, ["sp", "add", dir + "/named.xml", "--data-dir", server.data])
        #expect(added.stdout.contains("citizens see it as \"Servizi online del Comune\""), "\(added.stdout)\(added.stderr)")
        usleep(ServeCommandTests.trustPropagation)
        return sp.entityID
    }

    @Test("Chromium with a demo card: recognised, consent page naming the service (Italian and English), approve, back to the front end; a revoked card and no card get their pages")
    func chromiumCardLogin() async throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let requester = try Self.namedServiceProvider(server)
        let flow = LoginFlow(storage: try SQLiteGatewayStorage(path: server.data + "/cnsgw.sqlite"))
        let login = try await flow.start(LoginRequest(requester: requester, level: .spidL2,
                                                      attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth", "placeOfBirth"],
                                                      returnPath: "/saml/continue"))
        let card = "https://127.0.0.1:\(server.cardPort)"
        let publicURL = "https://127.0.0.1:\(server.publicPort)"

        let mario = try browse(["--p12", server.demo + "/cards/rccmnl83s18d969h.p12", "--card-origin", card,
                                "--page", "index=\(publicURL)/", "--page", "help=\(publicURL)/help",
                                "--page", "recognised=\(card)/login/card", "--consent-url", "\(card)/login/card?login=\(login.id)", "--reload-and-switch"])
        #expect(mario.pages["index"]?.lang == "it")
        #expect(mario.pages["help"]?.text.contains("PUK") == true)
        #expect(mario.pages["recognised"]?.text.contains("RCCMNL83S18D969H") == true, "\(mario.pages["recognised"]?.text ?? "")")
        // The service by its name, never its entity ID; the date the Italian way, the place by name and province, the level in words.
        let consent = try #require(mario.consent)
        for expected in ["Servizi online del Comune", "Acconsento", "18/11/1983", "Genova (GE)", "livello SPID 2 equivalente"] {
            #expect(consent.text.contains(expected), "\(expected) missing: \(consent.text)")
        }
        #expect(!consent.text.contains(requester) && !consent.text.contains("comune.example.it"), "\(consent.text)")
        let english = try #require(mario.switched)
        for expected in ["Town council online services", "18 November 1983", "Genova (GE)", "equivalent to SPID level 2"] {
            #expect(english.text.contains(expected), "\(expected) missing: \(english.text)")
        }
        // Back to the front end with the login and the continuation secret only this browser received.
        #expect(mario.after_consent?.url.hasPrefix("\(publicURL)/saml/continue?login=\(login.id)&continuation=") == true, "\(mario.after_consent?.url ?? "-")")
        #expect(try await flow.storage.pendingLogin(id: login.id)?.state == .completed)

        // A revoked card on a login: the refusal page's button names the service it goes back to.
        let refusedLogin = try await flow.start(LoginRequest(requester: requester, level: .spidL2, attributes: ["fiscalNumber"], returnPath: "/saml/continue"))
        let revoked = try browse(["--p12", server.demo + "/cards/rssmra80a01h501u.p12", "--card-origin", card, "--page", "revoked=\(card)/login/card",
                                  "--page", "revoked-login=\(card)/login/card?login=\(refusedLogin.id)"])
        #expect(revoked.pages["revoked"]?.text.contains("revoked") == true, "\(revoked.pages["revoked"]?.text ?? "")")
        #expect(revoked.pages["revoked-login"]?.text.contains("Torna a Servizi online del Comune") == true, "\(revoked.pages["revoked-login"]?.text ?? "")")
        let none = try browse(["--card-origin", card, "--lang", "en-GB,en", "--page", "no-certificate-en=\(card)/login/card",
                               "--page", "help-en=\(publicURL)/help"])
        #expect(none.pages["no-certificate-en"]?.text.contains("No certificate presented") == true, "\(none.pages["no-certificate-en"]?.text ?? "")")
        #expect(none.pages["help-en"]?.lang == "en")
        for name in ["index", "help", "recognised", "consent", "consent-switched", "revoked", "revoked-login", "no-certificate-en", "help-en"] {
            #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/\(name).png"), "no screenshot \(name)")
        }
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"result\":\"consented\"") && audit.contains("\"reason\":\"no_certificate\""))
    }
}
