import CNSTestSupport
import CNSValidation
import Foundation
import GatewayLogin
import GatewayStorageSQLite
import Testing

/// A real browser: Debian's headless Chromium with a demo card in its NSS database, selected by a profile rule,
/// logs in through the card listener and approves on the consent page. Screenshots go to a temporary folder (or
/// `CNSGW_SCREENSHOTS`); `scripts/screenshots.sh` refreshes the README's pictures in docs/screenshots.
@Suite(.serialized) struct BrowserTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Tests/Browser/card_login.py").path
    static let screenshots = ProcessInfo.processInfo.environment["CNSGW_SCREENSHOTS"] ?? NSTemporaryDirectory() + "cnsgw-screenshots-\(UUID().uuidString)"

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

    @Test("Chromium with a demo card: recognised, consent page, approve, back to the front end; a revoked card and no card get their pages")
    func chromiumCardLogin() async throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let flow = LoginFlow(storage: try SQLiteGatewayStorage(path: server.data + "/cnsgw.sqlite"))
        let login = try await flow.start(LoginRequest(requester: "https://servizi.comune.example.it/sp", level: .spidL2,
                                                      attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth", "placeOfBirth"],
                                                      returnPath: "/saml/continue"))
        let card = "https://127.0.0.1:\(server.cardPort)"
        let publicURL = "https://127.0.0.1:\(server.publicPort)"

        let mario = try browse(["--p12", server.demo + "/cards/rccmnl83s18d969h.p12", "--card-origin", card,
                                "--page", "index=\(publicURL)/", "--page", "help=\(publicURL)/help",
                                "--page", "recognised=\(card)/login/card", "--consent-url", "\(card)/login/card?login=\(login.id)"])
        #expect(mario.pages["index"]?.lang == "it")
        #expect(mario.pages["help"]?.text.contains("PUK") == true)
        #expect(mario.pages["recognised"]?.text.contains("RCCMNL83S18D969H") == true, "\(mario.pages["recognised"]?.text ?? "")")
        let consent = try #require(mario.consent)
        #expect(consent.text.contains("https://servizi.comune.example.it/sp") && consent.text.contains("Acconsento"), "\(consent.text)")
        // Back to the front end with the login and the continuation secret only this browser received.
        #expect(mario.after_consent?.url.hasPrefix("\(publicURL)/saml/continue?login=\(login.id)&continuation=") == true, "\(mario.after_consent?.url ?? "-")")
        #expect(try await flow.storage.pendingLogin(id: login.id)?.state == .completed)

        let revoked = try browse(["--p12", server.demo + "/cards/rssmra80a01h501u.p12", "--card-origin", card, "--page", "revoked=\(card)/login/card"])
        #expect(revoked.pages["revoked"]?.text.contains("revoked") == true, "\(revoked.pages["revoked"]?.text ?? "")")
        let none = try browse(["--card-origin", card, "--lang", "en-GB,en", "--page", "no-certificate-en=\(card)/login/card",
                               "--page", "help-en=\(publicURL)/help"])
        #expect(none.pages["no-certificate-en"]?.text.contains("No certificate presented") == true, "\(none.pages["no-certificate-en"]?.text ?? "")")
        #expect(none.pages["help-en"]?.lang == "en")
        for name in ["index", "help", "recognised", "consent", "revoked", "no-certificate-en", "help-en"] {
            #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/\(name).png"), "no screenshot \(name)")
        }
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"result\":\"consented\"") && audit.contains("\"reason\":\"no_certificate\""))
    }
}
