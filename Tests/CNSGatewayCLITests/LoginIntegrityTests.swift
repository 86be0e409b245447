import CNSTestSupport
import Foundation
import Testing

/// Only the browser that started a login can finish it: an attacker who starts a login and makes the victim's
/// browser (which presents the card without asking) do the card step and the consent gets nothing, for OIDC and
/// SAML. Two separate HTTP clients play the two browsers (Tests/Attacks/login_hijack.py).
@Suite(.serialized) struct LoginIntegrityTests {
    static let script = BrowserTests.repository.appendingPathComponent("Tests/Attacks/login_hijack.py").path
    static let card = "rccmnl83s18d969h"

    func hijack(_ server: ServeCommandTests.Server, start: String, continuePath: String) throws -> [String: Any] {
        let r = try runCommand("python3", [Self.script, "--start", start, "--continue-path", continuePath,
                                           "--card-cert", "\(server.demo)/cards/\(Self.card).pem", "--card-key", "\(server.demo)/cards/\(Self.card).key"],
                               timeout: 90)
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw ServiceError("the attack script failed (\(r.status)): \(r.stdout.suffix(800)) \(r.stderr.suffix(1500))")
        }
        return object
    }

    func step(_ result: [String: Any], _ name: String) -> [String: Any] { result[name] as? [String: Any] ?? [:] }

    func expectNothingIssued(_ result: [String: Any], _ label: String) {
        #expect(step(result, "start")["status"] as? Int == 303 && step(result, "start")["cookie_set"] as? Bool == true, "\(label): \(result)")
        #expect(step(result, "victim_card")["consent_page"] as? Bool == true, "\(label): \(result)")
        for name in ["cross_site_consent", "tokenless_consent", "attacker_continue", "attacker_guess", "victim_continue"] {
            #expect(step(result, name)["status"] as? Int == 400, "\(label) \(name): \(step(result, name)["status"] ?? "-")")
            #expect(step(result, name)["issued"] as? Bool == false, "\(label) \(name) issued an identity")
        }
        #expect(step(result, "victim_consent")["status"] as? Int == 303 && step(result, "victim_consent")["has_continuation"] as? Bool == true,
                "\(label): \(step(result, "victim_consent"))")
        // Whatever the login's state, a browser that may not finish it sees the same refusal as for an unknown login.
        let unknown = step(result, "unknown_continue")["body"] as? String
        #expect(unknown != nil && step(result, "unknown_continue")["status"] as? Int == 400)
        for name in ["attacker_continue", "attacker_guess", "victim_continue"] {
            #expect(step(result, name)["body"] as? String == unknown, "\(label): \(name) differs from an unknown login's refusal")
        }
    }

    @Test("OIDC: an attacker's login cannot be finished through the victim's card, by either browser; refusals look alike")
    func oidcHijack() throws {
        let gateway = OIDCServeTests.Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        try gateway.addClient(["--id", "portale", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb"])
        usleep(ServeCommandTests.trustPropagation)
        let query = ["client_id=portale", "response_type=code", "scope=openid", "state=attacker-state", "nonce=attacker-nonce",
                     "redirect_uri=" + "http://127.0.0.1:9/cb".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                     "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method=S256"].joined(separator: "&")
        let result = try hijack(gateway.server, start: "\(gateway.issuer)/oidc/authorize?\(query)", continuePath: "/oidc/continue")
        expectNothingIssued(result, "oidc")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", gateway.server.data]).stdout
        for reason in ["cross_site_consent", "forged_consent", "continuation_not_bound"] { #expect(audit.contains(reason), "\(reason) not audited") }
        #expect(!audit.contains("code_issued"), "a code was issued")
    }

    @Test("SAML: an attacker's login cannot be finished through the victim's card, by either browser")
    func samlHijack() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let (sp, dir) = try SAMLServeTests.spidProvider(server)
        try runCommand("python3", sp.arguments("metadata") + ["--spid"]).stdout.write(toFile: dir + "/spid.xml", atomically: true, encoding: .utf8)
        #expect(try runCommand(VerifyCommandTests.binary, ["sp", "add", dir + "/spid.xml", "--data-dir", server.data]).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        let signed = try runCommand("python3", sp.arguments("authn-url") + ["--idp-metadata", "https://127.0.0.1:\(server.publicPort)/saml/metadata"])
        let url = try #require((try? JSONSerialization.jsonObject(with: Data(signed.stdout.utf8)) as? [String: Any])?["url"] as? String, "\(signed.stderr)")
        let result = try hijack(server, start: url, continuePath: "/saml/continue")
        expectNothingIssued(result, "saml")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(!audit.contains("assertion_issued") && audit.contains("continuation_not_bound"), "\(audit.suffix(1500))")
    }

    @Test("the consent page names a refresh token when offline_access is asked, and a pseudonymous identifier when nothing else is released")
    func consentNamesWhatIsReleased() throws {
        let gateway = OIDCServeTests.Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        try gateway.addClient(["--id", "portale", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb", "--pkce", "optional"])
        usleep(ServeCommandTests.trustPropagation)
        func consentPage(scope: String, claims: String?) throws -> String {
            var query = "client_id=portale&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s&nonce=n&ui_locales=en&scope="
                + scope.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            if let claims { query += "&claims=" + claims.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
            let start = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{redirect_url}", "\(gateway.issuer)/oidc/authorize?\(query)"]).stdout
            #expect(start.contains("/login/card?login="), "\(start)")
            return try runCommand("curl", ["-sk", "--cert", "\(gateway.server.demo)/cards/\(Self.card).pem", "--key", "\(gateway.server.demo)/cards/\(Self.card).key",
                                           start]).stdout
        }
        let offline = try consentPage(scope: "openid offline_access", claims: #"{"userinfo":{"given_name":null}}"#)
        #expect(offline.contains("Long-lived access") && offline.contains("for 30 days (refresh token)") && offline.contains("Mario") && !offline.contains("MARIO"), "\(offline)")
        #expect(!offline.contains("pseudonymous identifier only"))
        let bare = try consentPage(scope: "openid", claims: nil)
        #expect(bare.contains("a pseudonymous identifier only") && !bare.contains("RCCMNL83S18D969H") && !bare.contains("refresh token"), "\(bare)")
    }

    @Test("every page: no framing, no sniffing, no referrer; HSTS on the public listener; the consent page carries its token")
    func securityHeaders() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        for url in ["https://127.0.0.1:\(server.publicPort)/", "https://127.0.0.1:\(server.publicPort)/oidc/continue?login=x", server.card] {
            let headers = try runCommand("curl", ["-sk", "-D", "-", "-o", "/dev/null", url]).stdout.lowercased()
            #expect(headers.contains("x-frame-options: deny") && headers.contains("frame-ancestors 'none'"), "\(url): \(headers)")
            #expect(headers.contains("x-content-type-options: nosniff") && headers.contains("referrer-policy: no-referrer"), "\(url)")
        }
        let publicHeaders = try runCommand("curl", ["-sk", "-D", "-", "-o", "/dev/null", "https://127.0.0.1:\(server.publicPort)/"]).stdout.lowercased()
        #expect(publicHeaders.contains("strict-transport-security: max-age="))
    }
}
