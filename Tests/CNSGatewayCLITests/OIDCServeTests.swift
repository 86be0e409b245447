import CNSTestSupport
import Foundation
import GatewayLogin
import GatewayStorageSQLite
import Testing

/// The OIDC front end with real relying parties from PyPI (authlib, idpyoidc), logging in through the card listener
/// with a test card; each library validates the ID token and userinfo with its own code.
@Suite(.serialized) struct OIDCServeTests {
    static let script = BrowserTests.repository.appendingPathComponent("Tests/OIDC/rp_client.py").path
    static let card = "rccmnl83s18d969h"

    struct Gateway {
        let server: ServeCommandTests.Server
        var issuer: String { "https://127.0.0.1:\(server.publicPort)" }
        var cardArguments: [String] { ["--card-cert", "\(server.demo)/cards/\(OIDCServeTests.card).pem", "--card-key", "\(server.demo)/cards/\(OIDCServeTests.card).key"] }

        /// `cnsgw client add`; returns the generated secret, if one was printed.
        @discardableResult
        func addClient(_ arguments: [String]) throws -> String? {
            let r = try runCommand(VerifyCommandTests.binary, ["client", "add"] + arguments + ["--data-dir", server.data])
            guard r.status == 0 else { throw ServiceError("client add failed: \(r.stderr)") }
            return r.stdout.split(separator: "\n").first { $0.hasPrefix("client secret") }.map { String($0.split(separator: " ").last!) }
        }

        func rp(_ mode: String, _ arguments: [String]) throws -> [String: Any] {
            let r = try runCommand("python3", [OIDCServeTests.script, mode, "--issuer", issuer] + cardArguments + arguments, timeout: 120)
            guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
                throw ServiceError("the RP client failed (\(r.status)): \(r.stdout.suffix(1000)) \(r.stderr.suffix(2000))")
            }
            if let exception = object["exception"] { Issue.record("the RP library raised: \(exception) \(object["trace"] ?? "")") }
            return object
        }
    }

    func error(_ object: Any?) -> String? { (object as? [String: Any])?["error"] as? String }
    func issued(_ object: Any?) -> Bool { (object as? [String: Any])?["issued"] as? Bool ?? true }

    @Test("authlib as a SPID client (request object, private_key_jwt, encrypted userinfo) and a plain client; idpyoidc; attacks refused")
    func relyingParties() throws {
        let gateway = Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        let dir = gateway.server.data + "/rp"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try runCommand("python3", [Self.script, "keys", "--out", dir]).status == 0)
        try gateway.addClient(["--id", "https://rp.comune.example.it", "--redirect-uri", "https://rp.comune.example.it/cb", "--jwks", dir + "/client.jwks",
                               "--max-level", "SpidL2", "--encrypt-id-token"])
        let secret = try #require(try gateway.addClient(["--id", "plain-client", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb",
                                                         "--post-logout-redirect-uri", "http://127.0.0.1:9/bye"]))
        usleep(ServeCommandTests.trustPropagation)

        // SPID profile
        let spid = try gateway.rp("login", ["--client-id", "https://rp.comune.example.it", "--redirect-uri", "https://rp.comune.example.it/cb", "--keys", dir,
                                            "--scope", "openid offline_access", "--attacks"])
        #expect(spid["callback_iss"] as? String == gateway.issuer && spid["state_ok"] as? Bool == true, "\(spid)")
        let idToken = try #require(spid["id_token"] as? [String: Any])
        #expect(idToken["acr"] as? String == "https://www.spid.gov.it/SpidL2" && idToken["aud"] as? String == "https://rp.comune.example.it")
        #expect(idToken[IdentityClaim.fiscal] == nil, "SPID attributes are returned by userinfo only")
        #expect(spid["id_token_encrypted"] as? Bool == true, "registered --encrypt-id-token")
        let userinfo = try #require(spid["userinfo"] as? [String: Any])
        let claims = try #require(userinfo["claims"] as? [String: Any])
        #expect(userinfo["jwt"] as? Bool == true && (userinfo["jwe_header"] as? [String: Any])?["enc"] as? String == "A256CBC-HS512", "\(userinfo)")
        #expect(claims[IdentityClaim.fiscal] as? String == "TINIT-RCCMNL83S18D969H" && claims["given_name"] as? String == "Mario")
        #expect(claims["sub"] as? String == idToken["sub"] as? String && claims["aud"] as? String == "https://rp.comune.example.it")
        #expect((claims["place_of_birth"] as? [String: Any])?["locality"] as? String == "D969")
        #expect((spid["access_token_header"] as? [String: Any])?["typ"] as? String == "at+jwt")
        #expect((spid["introspection"] as? [String: Any])?["active"] as? Bool == true)
        #expect((spid["refreshed"] as? [String: Any])?["new_refresh_token"] as? Bool == true)
        let reuse = spid["refresh_reuse"] as? [String: Any]
        #expect(error(reuse) == "invalid_grant" && !issued(reuse) && reuse?["after_reuse_userinfo"] as? Int == 401, "a rotated refresh token revokes the grant")
        let revocation = spid["revocation"] as? [String: Any]
        #expect(revocation?["status"] as? Int == 200 && revocation?["userinfo_after"] as? Int == 401)
        #expect((revocation?["introspection_after"] as? [String: Any])?["active"] as? Bool == false)
        let attacks = try #require(spid["attacks"] as? [String: Any])
        for name in ["pkce_mismatch", "code_after_failed_pkce", "pkce_missing", "code_replay"] {
            #expect(error(attacks[name]) == "invalid_grant" && !issued(attacks[name]), "\(name): \(attacks[name] ?? "")")
        }
        #expect(attacks["code_replay_userinfo"] as? Int == 401, "tokens from a replayed code are revoked")
        #expect(issued(attacks["assertion_first_use"]))
        for name in ["assertion_replay", "assertion_wrong_audience"] { #expect(error(attacks[name]) == "invalid_client", "\(name)") }
        #expect(attacks["request_object_expired"] as? String == "invalid_request_object")
        #expect(attacks["request_object_foreign_audience"] as? String == "invalid_request_object")
        for name in ["forged_access_token", "id_token_as_access_token"] {
            let answer = attacks[name] as? [String: Any]
            #expect(answer?["status"] as? Int == 401 && (answer?["www_authenticate"] as? String)?.contains("invalid_token") == true, "\(name)")
        }

        // Plain client with client_secret_basic (authlib), then idpyoidc with its own discovery, token and userinfo code.
        let plain = try gateway.rp("login", ["--client-id", "plain-client", "--redirect-uri", "http://127.0.0.1:9/cb", "--secret=" + secret,
                                             "--scope", "openid profile offline_access", "--attacks"])
        #expect((plain["id_token"] as? [String: Any])?["family_name"] as? String == "Rossi", "claims asked for the ID token: \(plain)")
        let plainInfo = plain["userinfo"] as? [String: Any]
        #expect(plain["id_token_encrypted"] as? Bool == false)
        #expect(plainInfo?["jwt"] as? Bool == false && (plainInfo?["claims"] as? [String: Any])?["birthdate"] as? String == "1983-11-18")
        #expect(((plain["attacks"] as? [String: Any])?["code_replay_userinfo"]) as? Int == 401)
        #expect((plain["id_token"] as? [String: Any])?["sub"] as? String != idToken["sub"] as? String, "pairwise subjects differ between sectors")
        let idpy = try gateway.rp("login", ["--lib", "idpyoidc", "--client-id", "plain-client", "--redirect-uri", "http://127.0.0.1:9/cb", "--secret=" + secret,
                                            "--scope", "openid profile", "--post-logout-redirect-uri", "http://127.0.0.1:9/bye"])
        #expect((idpy["userinfo"] as? [String: Any]).flatMap { ($0["claims"] as? [String: Any])?["family_name"] as? String } == "Rossi", "\(idpy)")
        #expect((idpy["id_token"] as? [String: Any])?["sub"] as? String == (plain["id_token"] as? [String: Any])?["sub"] as? String)
        let logout = idpy["logout"] as? [String: Any]
        #expect(logout?["status"] as? Int == 303 && (logout?["location"] as? String)?.hasPrefix("http://127.0.0.1:9/bye") == true, "\(idpy)")

        // A level the card's CA does not reach, and a denied consent, come back to the client as access_denied.
        for (extra, reason) in [(["--acr", "SpidL3"], "level"), (["--deny"], "denied")] {
            let refused = try gateway.rp("login", ["--client-id", "plain-client", "--redirect-uri", "http://127.0.0.1:9/cb", "--secret=" + secret] + extra)
            #expect(refused["callback_error"] as? String == "access_denied" && refused["id_token"] == nil, "\(reason): \(refused)")
        }

        // Every issuance and refusal is in the audit log.
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", gateway.server.data]).stdout
        for word in ["code_issued", "tokens_issued", "grant_revoked", "code_replayed", "refresh_token_replayed", "assertion_replayed", "pkce_mismatch"] {
            #expect(audit.contains(word), "audit lacks \(word)")
        }
    }

    @Test("the consent page names an OIDC client by its --display-name (in both languages), else by its host — never by its client ID")
    func clientNamedOnConsentPage() async throws {
        let gateway = Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        try gateway.addClient(["--id", "portale-comune", "--profile", "plain", "--redirect-uri", "https://portale.comune.example.it/cb",
                               "--display-name", "Portale   del Comune"])
        try gateway.addClient(["--id", "https://senza-nome.example.it/rp", "--profile", "plain", "--redirect-uri", "https://senza-nome.example.it/cb"])
        let list = try runCommand(VerifyCommandTests.binary, ["client", "list", "--json", "--data-dir", gateway.server.data]).stdout
        #expect(list.contains("\"displayName\":\"Portale del Comune\""), "\(list)")
        let badName = try runCommand(VerifyCommandTests.binary, ["client", "add", "--id", "x", "--profile", "plain", "--redirect-uri", "https://x.example.it/cb",
                                                                 "--display-name", " ", "--data-dir", gateway.server.data])
        #expect(badName.status == 2 && badName.stderr.contains("--display-name"))
        usleep(ServeCommandTests.trustPropagation)
        let flow = LoginFlow(storage: try SQLiteGatewayStorage(path: gateway.server.data + "/cnsgw.sqlite"))
        func consentPage(_ requester: String, language: String) async throws -> String {
            let login = try await flow.start(LoginRequest(requester: requester, level: .spidL2, attributes: ["fiscalNumber", "dateOfBirth"], returnPath: "/oidc/continue"))
            return try runCommand("curl", ["-sk", "--cert", "\(gateway.server.demo)/cards/\(Self.card).pem", "--key", "\(gateway.server.demo)/cards/\(Self.card).key",
                                           "-H", "Accept-Language: \(language)", "https://127.0.0.1:\(gateway.server.cardPort)/login/card?login=\(login.id)"]).stdout
        }
        let italian = try await consentPage("portale-comune", language: "it")
        #expect(italian.contains("<strong>Portale del Comune</strong> (livello SPID 2 equivalente)") && italian.contains("18/11/1983"), "\(italian)")
        let english = try await consentPage("portale-comune", language: "en")
        #expect(english.contains("<strong>Portale del Comune</strong> (equivalent to SPID level 2)") && english.contains("18 November 1983"), "\(english)")
        let unnamed = try await consentPage("https://senza-nome.example.it/rp", language: "it")
        #expect(unnamed.contains("<strong>senza-nome.example.it</strong>") && !unnamed.contains("https://senza-nome.example.it/rp"), "\(unnamed)")
    }

    @Test("unregistered redirect URIs and unknown clients get a page, never a redirect; discovery and JWKS; client registry refusals and removal")
    func refusalsAndRegistry() throws {
        let gateway = Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        let secret = try #require(try gateway.addClient(["--id", "plain-client", "--profile", "plain", "--auth", "client_secret_post",
                                                         "--redirect-uri", "https://rp.example.org/cb"]))
        usleep(ServeCommandTests.trustPropagation)
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        for uri in ["https://rp.example.org/cb/", "https://RP.example.org/cb", "https://rp.example.org/cb?x=1", "https://evil.example/cb",
                    "https://rp.example.org.evil.example/cb", "//evil.example/cb"] {
            let query = "client_id=plain-client&response_type=code&scope=openid&code_challenge=\(challenge)&code_challenge_method=S256&redirect_uri="
                + uri.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let r = try runCommand("curl", ["-sk", "-D", "-", "-o", "/dev/null", "\(gateway.issuer)/oidc/authorize?\(query)"])
            #expect(r.stdout.hasPrefix("HTTP/1.1 400") && !r.stdout.lowercased().contains("location:"), "\(uri): \(r.stdout)")
        }
        let page = try runCommand("curl", ["-sk", "\(gateway.issuer)/oidc/authorize?client_id=nobody&redirect_uri=https://evil.example/"]).stdout
        #expect(page.contains("unknown_client"))
        // A parameter sent twice counts as absent (RFC 6749 §3.1), so two client_ids name no client.
        let twice = try runCommand("curl", ["-sk", "\(gateway.issuer)/oidc/authorize?client_id=plain-client&client_id=other&redirect_uri=https://rp.example.org/cb"]).stdout
        #expect(twice.contains("no_client_id"), "\(twice.suffix(300))")
        // A good request without PKCE goes back to the client with the error and iss (RFC 9207).
        let noPKCE = try runCommand("curl", ["-sk", "-D", "-", "-o", "/dev/null",
                                             "\(gateway.issuer)/oidc/authorize?client_id=plain-client&response_type=code&scope=openid&state=s1&redirect_uri=https%3A%2F%2Frp.example.org%2Fcb"]).stdout.lowercased()
        #expect(noPKCE.contains("location: https://rp.example.org/cb?error=invalid_request&") && noPKCE.contains("state=s1") && noPKCE.contains("iss=https%3a%2f%2f127.0.0.1"), "\(noPKCE)")

        // Discovery (Config OP essentials) and the JWKS with both algorithms.
        let discovery = try JSONSerialization.jsonObject(with: Data(try runCommand("curl", ["-sk", "\(gateway.issuer)/.well-known/openid-configuration"]).stdout.utf8)) as? [String: Any]
        #expect(discovery?["issuer"] as? String == gateway.issuer)
        for field in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "response_types_supported", "subject_types_supported",
                      "id_token_signing_alg_values_supported", "end_session_endpoint", "revocation_endpoint", "introspection_endpoint"] {
            #expect(discovery?[field] != nil, "discovery lacks \(field)")
        }
        #expect(discovery?["code_challenge_methods_supported"] as? [String] == ["S256"])
        #expect((discovery?["id_token_signing_alg_values_supported"] as? [String])?.contains("RS256") == true)
        func jwks() throws -> [[String: Any]] {
            let object = try JSONSerialization.jsonObject(with: Data(try runCommand("curl", ["-sk", "\(gateway.issuer)/oidc/jwks"]).stdout.utf8)) as? [String: Any]
            return object?["keys"] as? [[String: Any]] ?? []
        }
        #expect(Set(try jwks().compactMap { $0["alg"] as? String }) == ["RS256", "ES256"])
        #expect(try jwks().allSatisfy { $0["d"] == nil })
        #expect(try runCommand(VerifyCommandTests.binary, ["keys", "rotate", "--use", "oidc", "--data-dir", gateway.server.data]).status == 0)
        usleep(6_000_000)   // the keyring reloads every 5 s
        #expect(try jwks().filter { $0["use"] as? String == "sig" }.count == 4, "the next keys are published before they sign")
        #expect(try jwks().contains { $0["use"] as? String == "enc" && $0["kty"] as? String == "RSA" }, "the key request objects may be encrypted to")

        // Registry: refusals, list without secrets, removal reaching the running gateway.
        let cnsgw = VerifyCommandTests.binary
        let data = ["--data-dir", gateway.server.data]
        let noKeys = try runCommand(cnsgw, ["client", "add", "--id", "https://spid.example.it", "--redirect-uri", "https://spid.example.it/cb"] + data)
        #expect(noKeys.status != 0 && noKeys.stderr.contains("JWKS"), "\(noKeys.stderr)")
        let http = try runCommand(cnsgw, ["client", "add", "--id", "x", "--profile", "plain", "--redirect-uri", "http://rp.example.org/cb"] + data)
        #expect(http.status != 0 && http.stderr.contains("https"))
        let duplicate = try runCommand(cnsgw, ["client", "add", "--id", "plain-client", "--profile", "plain", "--redirect-uri", "https://rp.example.org/cb"] + data)
        #expect(duplicate.status != 0 && duplicate.stderr.contains("--replace"))
        let leaked = gateway.server.data + "/leaked.jwks"
        try #"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#.write(toFile: leaked, atomically: true, encoding: .utf8)
        let privateKey = try runCommand(cnsgw, ["client", "add", "--id", "https://spid.example.it", "--redirect-uri", "https://spid.example.it/cb", "--jwks", leaked] + data)
        #expect(privateKey.status != 0 && privateKey.stderr.contains("private member"), "\(privateKey.stderr)")
        let list = try runCommand(cnsgw, ["client", "list", "--json"] + data).stdout
        #expect(list.contains("plain-client") && !list.contains(secret) && !list.contains(String(secret.prefix(10))))
        func token(_ extra: [String]) throws -> String {
            try runCommand("curl", ["-sk", "\(gateway.issuer)/oidc/token", "-d", "grant_type=authorization_code", "-d", "code=nothing"] + extra).stdout
        }
        #expect(try token(["-d", "client_id=plain-client", "-d", "client_secret=\(secret)"]).contains("invalid_grant"), "authenticated; the code is unknown")
        #expect(try token(["-d", "client_id=plain-client", "-d", "client_secret=wrong"]).contains("invalid_client"))
        #expect(try token(["-u", "plain-client:\(secret)"]).contains("invalid_client"), "registered client_secret_post, not basic")
        #expect(try runCommand(cnsgw, ["client", "remove", "plain-client"] + data).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        #expect(try token(["-d", "client_id=plain-client", "-d", "client_secret=\(secret)"]).contains("invalid_client"))
        let audit = try runCommand(cnsgw, ["audit", "export"] + data).stdout
        #expect(audit.contains("client.add") && audit.contains("client.remove") && audit.contains("redirect_uri_mismatch"))
    }

    @Test("RP-initiated logout ends the shared session and sends the other client a back-channel logout token")
    func backchannelLogout() throws {
        let gateway = Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        let port = LocalService.freePort()
        let first = try #require(try gateway.addClient(["--id", "first-rp", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/one",
                                                        "--post-logout-redirect-uri", "http://127.0.0.1:9/bye",
                                                        "--backchannel-logout-uri", "http://127.0.0.1:9/unused"]))
        let second = try #require(try gateway.addClient(["--id", "second-rp", "--profile", "plain", "--subject", "public", "--redirect-uri", "http://127.0.0.1:9/two",
                                                         "--backchannel-logout-uri", "http://127.0.0.1:\(port)/backchannel"]))
        usleep(ServeCommandTests.trustPropagation)
        let result = try gateway.rp("chain", ["--client-id", "first-rp", "--redirect-uri", "http://127.0.0.1:9/one", "--secret=" + first,
                                              "--second", "second-rp,http://127.0.0.1:9/two,\(second)", "--backchannel-port", "\(port)",
                                              "--post-logout-redirect-uri", "http://127.0.0.1:9/bye", "--acr", "SpidL1"])
        let sids = result["sids"] as? [String?]
        #expect(sids?.count == 2 && sids?[0] != nil && sids?[0] == sids?[1], "both logins share one session: \(result)")
        #expect(result["logout_status"] as? Int == 303 && result["logout_location"] as? String == "http://127.0.0.1:9/bye?state=bye")
        #expect(result["received"] as? Int == 1)
        let token = try #require(result["logout_token"] as? [String: Any])
        #expect(token["typ"] as? String == "logout+jwt" && token["aud"] as? String == "second-rp" && token["iss"] as? String == gateway.issuer)
        #expect(token["sub_matches"] as? Bool == true && token["sid_matches"] as? Bool == true && token["nonce"] as? Bool == false)
        #expect((token["events"] as? [String: Any])?["http://schemas.openid.net/event/backchannel-logout"] != nil)
    }
}

extension OIDCServeTests {
    @Test("a client registered with a JWKS URL: its key rollover is fetched and used; an unusable JWKS keeps the last good keys")
    func clientKeyRollover() throws {
        let gateway = Gateway(server: try ServeCommandTests.Server(environment: ["CNSGW_OIDC_JWKS_REFRESH_INTERVAL=1s"]))
        defer { gateway.server.process.stop() }
        let served = gateway.server.data + "/served", old = gateway.server.data + "/old", new = gateway.server.data + "/new"
        for dir in [served, old, new] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        #expect(try runCommand("python3", [Self.script, "keys", "--out", old]).status == 0)
        #expect(try runCommand("python3", [Self.script, "keys", "--out", new]).status == 0)
        try FileManager.default.copyItem(atPath: old + "/client.jwks", toPath: served + "/client.jwks")
        let port = LocalService.freePort()
        let http = try LocalService.httpServer(directory: served, port: port)
        defer { http.stop() }
        try gateway.addClient(["--id", "https://rotating.example.it", "--redirect-uri", "https://rotating.example.it/cb",
                               "--jwks", "http://127.0.0.1:\(port)/client.jwks"])
        usleep(ServeCommandTests.trustPropagation)
        func login(_ keys: String) throws -> [String: Any] {
            try gateway.rp("login", ["--client-id", "https://rotating.example.it", "--redirect-uri", "https://rotating.example.it/cb", "--keys", keys])
        }
        #expect((try login(old)["userinfo"] as? [String: Any])?["status"] as? Int == 200)
        // The client rolls its keys over: the gateway fetches the new set within a few seconds.
        try FileManager.default.removeItem(atPath: served + "/client.jwks")
        try FileManager.default.copyItem(atPath: new + "/client.jwks", toPath: served + "/client.jwks")
        usleep(3_500_000)
        let withNew = try login(new)
        #expect((withNew["userinfo"] as? [String: Any])?["status"] as? Int == 200, "\(withNew)")
        let withOld = try gateway.rp("login", ["--client-id", "https://rotating.example.it", "--redirect-uri", "https://rotating.example.it/cb", "--keys", old])
        #expect(withOld["callback_error"] as? String == "invalid_request_object", "the replaced key no longer signs requests: \(withOld)")
        // A broken JWKS is refused and the last good keys stay.
        try #"{"keys":[]}"#.write(toFile: served + "/client.jwks", atomically: true, encoding: .utf8)
        usleep(3_500_000)
        #expect((try login(new)["userinfo"] as? [String: Any])?["status"] as? Int == 200)
        let list = try runCommand(VerifyCommandTests.binary, ["client", "list", "--json", "--data-dir", gateway.server.data]).stdout
        #expect(list.contains("lastRefreshError") && list.contains("JWKS with a signing key"), "\(list)")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", gateway.server.data]).stdout
        #expect(audit.contains("client.jwks_refresh") && audit.contains("keys_changed"))
    }
}

extension OIDCServeTests {
    @Test("Chromium with a demo card: an OIDC authorization request, the consent page naming the client and its claims, the code at the redirect URI, exchanged with curl")
    func chromiumCodeFlow() throws {
        let gateway = Gateway(server: try ServeCommandTests.Server())
        defer { gateway.server.process.stop() }
        let secret = try #require(try gateway.addClient(["--id", "portale-regionale", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb"]))
        usleep(ServeCommandTests.trustPropagation)
        let verifier = String(repeating: "k", count: 20) + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let challenge = try runCommand("sh", ["-c", "printf %s '\(verifier)' | openssl dgst -sha256 -binary | basenc --base64url | tr -d '='"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let claims = #"{"userinfo":{"https://attributes.eid.gov.it/fiscal_number":null,"given_name":null,"family_name":null}}"#
        let query = ["client_id=portale-regionale", "response_type=code", "scope=openid", "state=browser-state", "nonce=browser-nonce",
                     "redirect_uri=" + "http://127.0.0.1:9/cb".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                     "code_challenge=\(challenge)", "code_challenge_method=S256", "ui_locales=it",
                     "claims=" + claims.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!].joined(separator: "&")
        let screenshots = gateway.server.data + "/screenshots"
        let r = try runCommand("python3", [BrowserTests.script, "--out", screenshots, "--p12", "\(gateway.server.demo)/cards/\(Self.card).p12",
                                           "--card-origin", "https://127.0.0.1:\(gateway.server.cardPort)", "--consent-url", "\(gateway.issuer)/oidc/authorize?\(query)",
                                           "--consent-name", "oidc-consent", "--until", "http://127.0.0.1:9/cb",
                                           "--reload-and-switch"], timeout: 180)
        let seen = try JSONDecoder().decode(BrowserTests.Seen.self, from: Data(r.stdout.utf8))
        let consent = try #require(seen.consent)
        #expect(consent.text.contains("portale-regionale") && consent.text.contains("Codice fiscale") && consent.text.contains("RCCMNL83S18D969H"), "\(consent.text)")
        // A reload and the language switch show the consent page again (in English after the switch); the login goes on.
        #expect(seen.reloaded?.text.contains("Acconsento") == true && seen.reloaded?.text.contains("RCCMNL83S18D969H") == true, "\(seen.reloaded?.text ?? "-")")
        #expect(seen.switched?.text.contains("Fiscal code") == true || seen.switched?.text.contains("I agree") == true, "\(seen.switched?.text ?? "-")")
        let callback = try #require(URLComponents(string: seen.after_consent?.url ?? ""))
        let items = Dictionary(uniqueKeysWithValues: (callback.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["state"] == "browser-state" && items["iss"] == gateway.issuer, "\(callback)")
        let code = try #require(items["code"])
        let token = try runCommand("curl", ["-sk", "-u", "portale-regionale:\(secret)", "\(gateway.issuer)/oidc/token", "-d", "grant_type=authorization_code",
                                            "--data-urlencode", "code=\(code)", "--data-urlencode", "redirect_uri=http://127.0.0.1:9/cb",
                                            "--data-urlencode", "code_verifier=\(verifier)"]).stdout
        let body = try #require(try JSONSerialization.jsonObject(with: Data(token.utf8)) as? [String: Any])
        #expect(body["id_token"] is String && body["token_type"] as? String == "Bearer", "\(token)")
        let access = try #require(body["access_token"] as? String)
        let userinfo = try runCommand("curl", ["-sk", "-H", "Authorization: Bearer \(access)", "\(gateway.issuer)/oidc/userinfo"]).stdout
        #expect(userinfo.contains("TINIT-RCCMNL83S18D969H") && userinfo.contains("\"given_name\":\"Mario\""), "\(userinfo)")
    }
}

enum IdentityClaim {
    static let fiscal = "https://attributes.eid.gov.it/fiscal_number"
}
