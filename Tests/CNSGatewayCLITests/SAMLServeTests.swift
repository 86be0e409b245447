import CNSTestSupport
import Foundation
import Testing

/// The SAML front end with real service providers from PyPI (pysaml2 with the SPID profile, python3-saml with the
/// standard profile), logging in through the card listener with a test card; each SP validates the Response with
/// its own code (signature, InResponseTo, audience, time).
@Suite(.serialized) struct SAMLServeTests {
    static let script = BrowserTests.repository.appendingPathComponent("Tests/SAML/sp_client.py").path

    struct SP {
        let lib: String
        let entityID: String
        let acs: String
        let key: String
        let cert: String

        func arguments(_ mode: String) -> [String] {
            [SAMLServeTests.script, mode, "--lib", lib, "--entity-id", entityID, "--acs", acs, "--key", key, "--cert", cert]
        }
    }

    /// A test SP key and certificate in `server.data/sp`, and a pysaml2 SPID SP using them.
    static func spidProvider(_ server: ServeCommandTests.Server) throws -> (sp: SP, dir: String) {
        let dir = server.data + "/sp"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try runCommand("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/sp.key", "-out", dir + "/sp.crt",
                                           "-days", "30", "-subj", "/CN=test SP"]).status == 0)
        let sp = SP(lib: "pysaml2", entityID: "https://comune.example.it/sp", acs: "https://127.0.0.1:9/acs", key: dir + "/sp.key", cert: dir + "/sp.crt")
        return (sp, dir)
    }

    static func json(_ r: CommandResult) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw ServiceError("the SP client failed (\(r.status)): \(r.stdout.suffix(1000)) \(r.stderr.suffix(2000))")
        }
        return object
    }

    @Test("pysaml2 (spid, Redirect and POST) and python3-saml (saml2) log in with a card; tampered, replayed and refused logins get the SPID errors")
    func serviceProviders() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let (spid, dir) = try Self.spidProvider(server)
        let plain = SP(lib: "python3-saml", entityID: "https://servizi.example.org/saml", acs: "https://127.0.0.1:9/saml/acs", key: dir + "/sp.key",
                       cert: dir + "/sp.crt")
        let spidMetadata = try runCommand("python3", spid.arguments("metadata") + ["--spid"])
        try spidMetadata.stdout.write(toFile: dir + "/spid.xml", atomically: true, encoding: .utf8)
        let plainMetadata = try runCommand("python3", plain.arguments("metadata"))
        try plainMetadata.stdout.write(toFile: dir + "/plain.xml", atomically: true, encoding: .utf8)
        let cnsgw = VerifyCommandTests.binary
        let added = try runCommand(cnsgw, ["sp", "add", dir + "/spid.xml", "--data-dir", server.data])
        #expect(added.status == 0 && added.stdout.contains("profile spid"), "\(added.stdout)\(added.stderr)")
        #expect(try runCommand(cnsgw, ["sp", "add", dir + "/plain.xml", "--attributes", "fiscalNumber,name,familyName", "--data-dir", server.data])
            .stdout.contains("profile saml2"))
        usleep(ServeCommandTests.trustPropagation)
        let metadataURL = "https://127.0.0.1:\(server.publicPort)/saml/metadata"
        func login(_ sp: SP, card: String = "rccmnl83s18d969h", _ extra: [String] = []) throws -> [String: Any] {
            try Self.json(runCommand("python3", sp.arguments("login") + ["--idp-metadata", metadataURL, "--card-cert", "\(server.demo)/cards/\(card).pem",
                                                                     "--card-key", "\(server.demo)/cards/\(card).key"] + extra, timeout: 90))
        }

        for binding in ["redirect", "post"] {
            let result = try login(spid, ["--binding", binding])
            #expect(result["authn_context"] as? String == "https://www.spid.gov.it/SpidL2", "\(binding): \(result)")
            #expect(result["name_id_format"] as? String == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
            #expect(result["relay_state"] as? String == result["relay_sent"] as? String && result["session_index"] is NSNull)
            let attributes = result["attributes"] as? [String: [String]]
            #expect(attributes == ["fiscalNumber": ["TINIT-RCCMNL83S18D969H"], "name": ["Mario"], "familyName": ["Rossi"], "dateOfBirth": ["1983-11-18"]],
                    "\(binding): \(result)")
        }
        let standard = try login(plain)
        #expect(standard["authenticated"] as? Bool == true && (standard["errors"] as? [Any])?.isEmpty == true, "\(standard)")
        let plainAttributes = standard["attributes"] as? [String: [String]]
        #expect(plainAttributes?["fiscalNumber"] == ["TINIT-RCCMNL83S18D969H"] && plainAttributes?["urn:oid:2.5.4.42"] == ["Mario"], "\(standard)")

        // Assertion encryption (AES-256-GCM, RSA-OAEP) for an SP that asks for it: python3-saml decrypts and verifies.
        let sealed = SP(lib: "python3-saml", entityID: "https://cifrato.example.org/saml", acs: "https://127.0.0.1:9/enc/acs", key: dir + "/sp.key",
                        cert: dir + "/sp.crt")
        try runCommand("python3", sealed.arguments("metadata") + ["--encrypted"]).stdout.write(toFile: dir + "/sealed.xml", atomically: true, encoding: .utf8)
        let sealedAdd = try runCommand(cnsgw, ["sp", "add", dir + "/sealed.xml", "--encrypt", "--attributes", "fiscalNumber", "--data-dir", server.data])
        #expect(sealedAdd.status == 0, "\(sealedAdd.stderr)")
        #expect(try runCommand(cnsgw, ["sp", "add", dir + "/plain.xml", "--encrypt", "--replace", "--data-dir", server.data]).stderr.contains("no encryption key"))
        usleep(ServeCommandTests.trustPropagation)
        let encrypted = try login(sealed, ["--encrypted"])
        #expect(encrypted["encrypted"] as? Bool == true && encrypted["authenticated"] as? Bool == true, "\(encrypted)")
        #expect((encrypted["attributes"] as? [String: [String]])?["fiscalNumber"] == ["TINIT-RCCMNL83S18D969H"])

        // Refusals that can be answered to a listed ACS: a signed SPID error Response, verified by pysaml2.
        for (tamper, code) in [("acs-url", "nr16"), ("destination", "nr14"), ("issue-instant", "nr13")] {
            let refused = try login(spid, ["--tamper", tamper])
            #expect(refused["action"] as? String == spid.acs && (refused["message"] as? String)?.contains("ErrorCode \(code)") == true, "\(tamper): \(refused)")
        }
        // Refusals with no safe destination: a page, no Response.
        for tamper in ["unsigned", "relay-state", "replay"] {
            for binding in tamper == "relay-state" ? ["redirect"] : ["redirect", "post"] {
                let refused = try login(spid, ["--tamper", tamper, "--binding", binding])
                #expect(refused["refused"] as? String == "page" && refused["status"] as? Int == 403, "\(tamper)/\(binding): \(refused)")
            }
        }
        let afterSigning = try login(spid, ["--tamper", "after-signing", "--binding", "post"])
        #expect(afterSigning["refused"] as? String == "page", "\(afterSigning)")
        // How a login ends goes back to the SP: revoked card (nr23), consent denied (nr22), level too low (nr20).
        let revoked = try login(spid, card: "rssmra80a01h501u", ["--deny"])
        #expect((revoked["message"] as? String)?.contains("ErrorCode nr23") == true, "\(revoked)")
        let denied = try login(spid, ["--deny"])
        #expect((denied["message"] as? String)?.contains("ErrorCode nr22") == true, "\(denied)")
        let tooHigh = try login(spid, ["--level", "SpidL3", "--deny"])
        #expect((tooHigh["message"] as? String)?.contains("ErrorCode nr20") == true, "\(tooHigh)")

        // SP-initiated single logout (pysaml2's global_logout, signed, HTTP-Redirect), answered with a signed LogoutResponse.
        let loggedOut = try login(spid, ["--level", "SpidL1", "--logout"])
        let logout = loggedOut["logout"] as? [String: Any]
        #expect(logout?["status"] as? String == "urn:oasis:names:tc:SAML:2.0:status:Success" && (logout?["action"] as? String)?.hasSuffix("/slo") == true,
                "\(loggedOut)")

        let audit = try runCommand(cnsgw, ["audit", "export", "--data-dir", server.data]).stdout
        for reason in ["\"result\":\"assertion_issued\"", "\"reason\":\"signature_missing\"", "\"reason\":\"replay\"", "\"reason\":\"acs\"",
                       "\"errorCode\":\"nr22\"", "\"action\":\"sp.add\"", "\"result\":\"logout\""] {
            #expect(audit.contains(reason), "audit lacks \(reason)")
        }
        let list = try runCommand(cnsgw, ["sp", "list", "--json", "--data-dir", server.data]).stdout
        #expect(list.contains("\"profile\":\"spid\"") && list.contains("\"profile\":\"saml2\""))
        #expect(try runCommand(cnsgw, ["sp", "remove", plain.entityID, "--data-dir", server.data]).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        let unknown = try login(plain)
        #expect(unknown["refused"] as? String == "page", "\(unknown)")
    }
}

/// The SPID error table and the SPID logout through pysaml2: a SPID SP sends each malformed request over both bindings
/// and checks the signed error Response with its own validation, and its status tree with XPath; an SP on pysaml2's
/// default settings (the Response must be signed) logs in and out with a registration made without options.
@Suite(.serialized) struct SAMLConformanceServeTests {
    /// A pysaml2 SPID SP registered with `cnsgw sp add` and no options.
    static func registeredProvider(_ server: ServeCommandTests.Server) throws -> SAMLServeTests.SP {
        let (spid, dir) = try SAMLServeTests.spidProvider(server)
        try runCommand("python3", spid.arguments("metadata") + ["--spid"]).stdout.write(toFile: dir + "/spid.xml", atomically: true, encoding: .utf8)
        #expect(try runCommand(VerifyCommandTests.binary, ["sp", "add", dir + "/spid.xml", "--data-dir", server.data]).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        return spid
    }

    /// `sp_client.py login` as that SP with the demo card, and what it saw.
    static func login(_ spid: SAMLServeTests.SP, _ server: ServeCommandTests.Server, _ extra: [String]) throws -> [String: Any] {
        try SAMLServeTests.json(runCommand("python3", spid.arguments("login") + [
            "--idp-metadata", "https://127.0.0.1:\(server.publicPort)/saml/metadata", "--pysaml2-defaults",
            "--card-cert", "\(server.demo)/cards/rccmnl83s18d969h.pem", "--card-key", "\(server.demo)/cards/rccmnl83s18d969h.key",
        ] + extra, timeout: 120))
    }

    @Test("each malformed SPID request (both bindings) gets the table's status, sub-status and message at the SP's ACS, signed")
    func errorTable() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let spid = try Self.registeredProvider(server)
        let requester = "urn:oasis:names:tc:SAML:2.0:status:Requester", unsupported = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
        let rows: [(tamper: String, code: String, status: String, sub: String?)] = [
            ("force-authn-word", "nr08", requester, nil),
            ("version", "nr09", "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch", nil),
            ("no-comparison", "nr12", requester, "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"),
            ("issue-instant", "nr13", requester, "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"),
            ("destination", "nr14", requester, unsupported),
            ("is-passive", "nr15", requester, "urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
            ("no-acs", "nr16", requester, unsupported),
            ("acs-url-no-binding", "nr16", requester, unsupported),
            ("acs-url", "nr16", requester, unsupported),
            ("name-id-persistent", "nr17", requester, unsupported),
            ("attribute-index", "nr18", requester, unsupported),
        ]
        for row in rows {
            for binding in ["redirect", "post"] {
                let r = try Self.login(spid, server, ["--binding", binding, "--tamper", row.tamper])
                let what = "\(row.tamper) (\(binding)): \(r)"
                // pysaml2 verified the signed Response and raised the error its status names.
                #expect(r["error"] is String && !((r["error"] as? String) ?? "").contains("Signature"), "\(what)")
                #expect(r["status"] as? String == row.status && (r["sub_statuses"] as? [String]) == (row.sub.map { [$0] } ?? []), "\(what)")
                #expect(r["status_message"] as? String == "ErrorCode \(row.code)" && r["response_signature"] as? Bool == true, "\(what)")
                #expect(r["action"] as? String == spid.acs && r["destination"] as? String == spid.acs && r["relay_state"] as? String == r["relay_sent"] as? String,
                        "\(what)")
                #expect(r["in_response_to"] is String && (r["in_response_to"] as? String)?.isEmpty == false, "\(what)")
            }
        }
    }

    @Test("a citizen slower than the login's lifetime: the card page says so, its button goes back, the SP gets nr21 (Responder/AuthnFailed)")
    func timeout() throws {
        let server = try ServeCommandTests.Server(environment: ["CNSGW_LOGIN_LIFETIME=30s"])
        defer { server.process.stop() }
        let spid = try Self.registeredProvider(server)
        let r = try Self.login(spid, server, ["--binding", "post", "--wait-before-card", "31"])
        #expect(r["status"] as? String == "urn:oasis:names:tc:SAML:2.0:status:Responder" && r["sub_statuses"] as? [String] == ["urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"],
                "\(r)")
        #expect(r["status_message"] as? String == "ErrorCode nr21" && r["action"] as? String == spid.acs && r["in_response_to"] is String, "\(r)")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"errorCode\":\"nr21\"") && audit.contains("\"reason\":\"timeout\""))
    }

    @Test("an SP on pysaml2's defaults (Response signature required), registered without options, logs in and out the SPID way")
    func pysaml2Defaults() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let spid = try Self.registeredProvider(server)
        for binding in ["redirect", "post"] {
            let r = try Self.login(spid, server, ["--binding", binding, "--logout", "--logout-spid"])
            #expect(r["authn_context"] as? String == "https://www.spid.gov.it/SpidL2" && r["response_signed"] as? Bool == true, "\(binding): \(r)")
            // The LogoutRequest named the gateway's entityID as Destination and carried an empty SessionIndex (no session at SpidL2).
            let logout = r["logout"] as? [String: Any]
            #expect((logout?["destination_sent"] as? String)?.hasSuffix("/saml/metadata") == true, "\(binding): \(r)")
            #expect(logout?["status"] as? String == "urn:oasis:names:tc:SAML:2.0:status:Success" && logout?["sub_status"] is NSNull, "\(binding): \(r)")
            #expect(logout?["action"] as? String == "https://127.0.0.1:9/slo" && logout?["relay_state"] as? String == "rs-logout", "\(binding): \(r)")
        }
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"result\":\"logout\"") && !audit.contains("\"reason\":\"destination\""))
    }
}

/// Service providers registered from a URL: federation-signed metadata, refreshed in the background.
@Suite(.serialized) struct SAMLMetadataRefreshTests {
    @Test("metadata from a URL needs the federation signature; a bad refresh keeps the last good copy; a good one takes effect")
    func refresh() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let dir = server.data + "/federation"
        let served = dir + "/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        for name in ["federation", "sp", "other"] {
            #expect(try runCommand("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).crt",
                                               "-days", "30", "-subj", "/CN=\(name)"]).status == 0)
        }
        let port = LocalService.freePort()
        let http = try LocalService.httpServer(directory: served, port: port)
        defer { http.stop() }
        func metadata(acs: String) throws -> String {
            let sp = SAMLServeTests.SP(lib: "python3-saml", entityID: "https://federato.example.it/sp", acs: acs, key: dir + "/sp.key", cert: dir + "/sp.crt")
            // A two-second cache, so the gateway refreshes it during the test.
            let xml = try runCommand("python3", sp.arguments("metadata")).stdout
                .replacingOccurrences(of: #"cacheDuration="[^"]*""#, with: #"cacheDuration="PT2S""#, options: .regularExpression)
            return try EnvelopedSignatureFixture.sign(xml, keyPEMPath: dir + "/federation.key", certificatePEMPath: dir + "/federation.crt")
        }
        let url = "http://127.0.0.1:\(port)/sp.xml"
        try metadata(acs: "https://127.0.0.1:9/first/acs").write(toFile: served + "/sp.xml", atomically: true, encoding: .utf8)
        let cnsgw = VerifyCommandTests.binary
        #expect(try runCommand(cnsgw, ["sp", "add", url, "--data-dir", server.data]).stderr.contains("--federation-cert"))
        let wrong = try runCommand(cnsgw, ["sp", "add", url, "--federation-cert", dir + "/other.crt", "--data-dir", server.data])
        #expect(wrong.status == 2 && wrong.stderr.contains("signature"), "\(wrong.stderr)")
        let added = try runCommand(cnsgw, ["sp", "add", url, "--federation-cert", dir + "/federation.crt", "--attributes", "fiscalNumber", "--data-dir", server.data])
        #expect(added.status == 0, "\(added.stderr)")

        func registration() throws -> [String: Any] {
            let list = try runCommand(cnsgw, ["sp", "list", "--json", "--data-dir", server.data]).stdout
            return (try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]])?.first ?? [:]
        }
        // A copy altered after signing: refused on refresh, the last good copy stays, the failure is counted.
        let good = try String(contentsOfFile: served + "/sp.xml", encoding: .utf8)
        try good.replacingOccurrences(of: "/first/acs", with: "/evil/acs").write(toFile: served + "/sp.xml", atomically: true, encoding: .utf8)
        sleep(4)
        let afterBad = try registration()
        #expect((afterBad["lastRefreshError"] as? String)?.contains("signature") == true, "\(afterBad)")
        let metrics = try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/metrics"]).stdout
        #expect(metrics.contains("cnsgw_saml_metadata_refresh_failures_total"))
        // A properly signed new version (another ACS) replaces it.
        try metadata(acs: "https://127.0.0.1:9/second/acs").write(toFile: served + "/sp.xml", atomically: true, encoding: .utf8)
        sleep(4)
        let afterGood = try registration()
        #expect(afterGood["lastRefreshError"] is NSNull, "\(afterGood)")
        let audit = try runCommand(cnsgw, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"action\":\"sp.refresh\"") && audit.contains("\"result\":\"refreshed\"") && audit.contains("\"result\":\"failed\""))
        usleep(ServeCommandTests.trustPropagation)
        let sp = SAMLServeTests.SP(lib: "python3-saml", entityID: "https://federato.example.it/sp", acs: "https://127.0.0.1:9/second/acs",
                                   key: dir + "/sp.key", cert: dir + "/sp.crt")
        let login = try runCommand("python3", sp.arguments("login") + ["--idp-metadata", "https://127.0.0.1:\(server.publicPort)/saml/metadata",
                                                                      "--card-cert", "\(server.demo)/cards/rccmnl83s18d969h.pem",
                                                                      "--card-key", "\(server.demo)/cards/rccmnl83s18d969h.key"], timeout: 90)
        #expect(login.stdout.contains("\"authenticated\": true") && login.stdout.contains("/second/acs"), "\(login.stdout) \(login.stderr)")
    }
}

/// Single logout across two services sharing one SSO session (SpidL1): the gateway tells the other service with its
/// own signed LogoutRequest, then answers the first; a service it cannot tell makes the answer PartialLogout.
@Suite(.serialized) struct SAMLLogoutPropagationTests {
    @Test("SP-initiated logout reaches the other participant (signed LogoutRequest and LogoutResponse both ways); an unreachable one gives PartialLogout")
    func propagation() throws {
        let server = try ServeCommandTests.Server()
        defer { server.process.stop() }
        let cnsgw = VerifyCommandTests.binary
        // SSO sessions and SessionIndex exist at SpidL1: trust the demo CA at that level.
        let list = try runCommand(cnsgw, ["ca", "list", "--json", "--data-dir", server.data]).stdout
        let id = try #require((try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        #expect(try runCommand(cnsgw, ["ca", "remove", id, "--data-dir", server.data]).status == 0)
        #expect(try runCommand(cnsgw, ["ca", "add", server.demo + "/ca.pem", "--level", "SpidL1", "--revocation", "crl-only", "--crl", server.demo + "/crl.der",
                                       "--data-dir", server.data]).status == 0)
        let dir = server.data + "/slo"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try runCommand("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/sp.key", "-out", dir + "/sp.crt", "-days", "30",
                                           "-subj", "/CN=slo SP"]).status == 0)
        let first = SAMLServeTests.SP(lib: "pysaml2", entityID: "https://primo.example.it/sp", acs: "https://127.0.0.1:9/primo/acs", key: dir + "/sp.key",
                                      cert: dir + "/sp.crt")
        let second = SAMLServeTests.SP(lib: "pysaml2", entityID: "https://secondo.example.it/sp", acs: "https://127.0.0.1:9/secondo/acs", key: dir + "/sp.key",
                                       cert: dir + "/sp.crt")
        for (sp, name) in [(first, "first"), (second, "second")] {
            try runCommand("python3", sp.arguments("metadata") + ["--spid"]).stdout.write(toFile: "\(dir)/\(name).xml", atomically: true, encoding: .utf8)
            #expect(try runCommand(cnsgw, ["sp", "add", "\(dir)/\(name).xml", "--level", "SpidL1", "--data-dir", server.data]).status == 0)
        }
        usleep(ServeCommandTests.trustPropagation)
        func chain(_ extra: [String] = []) throws -> [String: Any] {
            let r = try runCommand("python3", first.arguments("slo-chain") + extra + [
                "--second-entity-id", second.entityID, "--second-acs", second.acs, "--level", "SpidL1",
                "--idp-metadata", "https://127.0.0.1:\(server.publicPort)/saml/metadata",
                "--card-cert", "\(server.demo)/cards/rccmnl83s18d969h.pem", "--card-key", "\(server.demo)/cards/rccmnl83s18d969h.key"], timeout: 120)
            return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? ["error": r.stdout + r.stderr]
        }
        // An OIDC client joins the same session: the SAML logout reaches it over its back channel.
        let port = LocalService.freePort()
        #expect(try runCommand(cnsgw, ["client", "add", "--id", "portale-oidc", "--profile", "plain", "--redirect-uri", "http://127.0.0.1:9/cb",
                                       "--backchannel-logout-uri", "http://127.0.0.1:\(port)/bc", "--data-dir", server.data]).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        let done = try chain(["--oidc-client", "portale-oidc", "--oidc-redirect", "http://127.0.0.1:9/cb", "--oidc-backchannel-port", "\(port)"])
        #expect(done["oidc_joined"] as? Bool == true && done["backchannel_received"] as? Int == 1, "\(done)")
        #expect((done["logout_token"] as? [String: Any])?["aud"] as? String == "portale-oidc", "\(done)")
        #expect(done["session_index_a"] as? String != nil && done["session_index_a"] as? String == done["session_index_b"] as? String, "\(done)")
        #expect(done["request_to"] as? String == "https://127.0.0.1:9/secondo/slo" && done["request_name_id_matches"] as? Bool == true, "\(done)")
        #expect(done["final_status"] as? String == "urn:oasis:names:tc:SAML:2.0:status:Success", "\(done)")
        let audit = try runCommand(cnsgw, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("\"result\":\"logout_request_sent\"") && audit.contains("\"result\":\"logout_confirmed\"") && audit.contains("\"result\":\"logout_complete\""))

        // The second service is unregistered between the logins and the logout: it cannot be told.
        let partial = try chain(["--before-logout", "\(cnsgw) sp remove \(second.entityID) --data-dir \(server.data)"])
        #expect(partial["final_error"] as? String == "StatusPartialLogout", "\(partial)")
        #expect(try runCommand(cnsgw, ["audit", "export", "--data-dir", server.data]).stdout.contains("\"result\":\"logout_unreachable\""))
    }
}

/// Signing-key rollover on a running gateway: published first, signing after the delay, the old key retired.
@Suite(.serialized) struct KeyRolloverTests {
    @Test("keys rotate publishes the next SAML key in the metadata, the gateway promotes it after the delay, and SPs verify Responses throughout")
    func rollover() throws {
        let server = try ServeCommandTests.Server(environment: ["CNSGW_KEYS_PUBLISH_DELAY=2s"])
        defer { server.process.stop() }
        let cnsgw = VerifyCommandTests.binary
        let metadataURL = "https://127.0.0.1:\(server.publicPort)/saml/metadata"
        func certificates() throws -> Int { try runCommand("curl", ["-sk", metadataURL]).stdout.components(separatedBy: "<ds:X509Certificate>").count - 1 }
        #expect(try certificates() == 1)
        let rotated = try runCommand(cnsgw, ["keys", "rotate", "--use", "saml", "--data-dir", server.data])
        #expect(rotated.status == 0 && rotated.stdout.contains("published saml RS256 key"), "\(rotated.stdout)\(rotated.stderr)")
        #expect(try runCommand(cnsgw, ["keys", "rotate", "--use", "saml", "--data-dir", server.data]).stdout.contains("nothing to rotate"))
        sleep(6)   // the publish delay, the rollover schedule and the gateway's key cache
        #expect(try certificates() == 2)   // the retired key stays published
        let list = try runCommand(cnsgw, ["keys", "list", "--json", "--data-dir", server.data]).stdout
        let saml = ((try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]]) ?? []).filter { $0["use"] as? String == "saml" }
        #expect(saml.compactMap { $0["state"] as? String }.sorted() == ["active", "retired"], "\(list)")
        #expect(try runCommand(cnsgw, ["audit", "export", "--data-dir", server.data]).stdout.contains("\"action\":\"keys.rollover\""))

        // A service provider that fetched the metadata verifies a Response signed with the new key.
        let dir = server.data + "/rollover"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try runCommand("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/sp.key", "-out", dir + "/sp.crt", "-days", "30",
                                           "-subj", "/CN=rollover SP"]).status == 0)
        let sp = SAMLServeTests.SP(lib: "python3-saml", entityID: "https://rollover.example.it/sp", acs: "https://127.0.0.1:9/acs", key: dir + "/sp.key",
                                   cert: dir + "/sp.crt")
        try runCommand("python3", sp.arguments("metadata")).stdout.write(toFile: dir + "/sp.xml", atomically: true, encoding: .utf8)
        #expect(try runCommand(cnsgw, ["sp", "add", dir + "/sp.xml", "--data-dir", server.data]).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        let login = try runCommand("python3", sp.arguments("login") + ["--idp-metadata", metadataURL, "--card-cert", "\(server.demo)/cards/rccmnl83s18d969h.pem",
                                                                      "--card-key", "\(server.demo)/cards/rccmnl83s18d969h.key"], timeout: 90)
        #expect(login.stdout.contains("\"authenticated\": true"), "\(login.stdout) \(login.stderr)")
    }
}
