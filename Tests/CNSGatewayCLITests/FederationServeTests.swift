import CNSTestSupport
import Foundation
import Testing

/// The gateway in a local SPID/CIE OpenID Federation made of PyPI's reference implementation (spid-cie-oidc): its
/// `authority` app as the trust anchor, its `relying_party` app as a SPID relying party. The RP resolves the gateway's
/// chain, the gateway resolves the RP's (automatic registration), and a citizen logs in with a demo card.
@Suite(.serialized) struct FederationServeTests {
    static let script = BrowserTests.repository.appendingPathComponent("Tests/Federation/federation.py").path
    static let python = ProcessInfo.processInfo.environment["CNSGW_FEDERATION_PYTHON"]
        ?? BrowserTests.repository.appendingPathComponent(".build/federation-venv/bin/python").path
    static let mark = "https://www.spid.gov.it/certification/rp/public"
    static let card = "rccmnl83s18d969h"

    func json(_ r: CommandResult, _ what: String) throws -> [String: Any] {
        guard r.status == 0, let object = try? JSONSerialization.jsonObject(with: Data((r.stdout.split(separator: "\n").last.map(String.init) ?? "").utf8)) as? [String: Any] else {
            throw ServiceError("\(what) failed (\(r.status)): \(r.stdout.suffix(1500)) \(r.stderr.suffix(3000))")
        }
        return object
    }

    /// The payload and header of a compact JWS, unverified (the checks below are about what the gateway publishes).
    func parts(_ jwt: String) throws -> (header: [String: Any], payload: [String: Any]) {
        let p = jwt.split(separator: ".").map(String.init)
        func decode(_ s: String) throws -> [String: Any] {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            b += String(repeating: "=", count: (4 - b.count % 4) % 4)
            guard let data = Data(base64Encoded: b), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ServiceError("not a JWS part: \(s.prefix(80))")
            }
            return object
        }
        return (try decode(p[0]), try decode(p[1]))
    }

    @Test("a SPID RP of spid-cie-oidc logs a citizen in through automatic registration; the Entity Configuration passes its OP schemas")
    func relyingPartyOfTheReferenceImplementation() throws {
        let taPort = LocalService.freePort(), rpPort = LocalService.freePort()
        let ta = "http://127.0.0.1:\(taPort)/", rp = "http://127.0.0.1:\(rpPort)/oidc/rp/"
        let server = try ServeCommandTests.Server(environment: ["CNSGW_FEDERATION_AUTHORITY_HINTS=\(ta)", "CNSGW_FEDERATION_ORGANIZATION_NAME=Regione di Prova",
                                                                "CNSGW_FEDERATION_CONTACTS=idp@regione.example.it"])
        defer { server.process.stop() }
        let gateway = "https://127.0.0.1:\(server.publicPort)"
        let state = server.data + "/federation"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let common = ["--ta", ta, "--gateway", gateway]
        _ = try json(try runCommand(Self.python, [Self.script, "setup", "rp", state, "--rp-port", "\(rpPort)"] + common), "setup rp")
        _ = try json(try runCommand(Self.python, [Self.script, "setup", "ta", state] + common), "setup ta")
        _ = try json(try runCommand(Self.python, [Self.script, "setup", "mark", state] + common), "setup mark")
        let anchor = try LocalService([Self.python, Self.script, "serve", "ta", state, "--port", "\(taPort)"] + common, port: taPort)
        defer { anchor.stop() }
        let relyingParty = try LocalService([Self.python, Self.script, "serve", "rp", state, "--port", "\(rpPort)"] + common, port: rpPort)
        defer { relyingParty.stop() }
        try anchor.waitUntilListening(timeout: 60)
        try relyingParty.waitUntilListening(timeout: 60)

        // The admin pins the anchor (its keys from its own Entity Configuration) and requires the SPID public RP mark.
        let pinned = try runCommand(VerifyCommandTests.binary, ["federation", "anchor", "add", ta, "--jwks", ta + ".well-known/openid-federation",
                                                                "--require-trust-mark", Self.mark, "--data-dir", server.data])
        #expect(pinned.status == 0 && pinned.stdout.contains("pinned trust anchor"), "\(pinned.stderr)")
        usleep(ServeCommandTests.trustPropagation)

        // The anchor issued the gateway a trust mark: installed, it is published; one issued to another entity is refused.
        let installed = try runCommand(VerifyCommandTests.binary, ["federation", "trust-mark", "add", "@" + state + "/gateway-mark.jwt", "--entity-id", gateway,
                                                                   "--data-dir", server.data])
        #expect(installed.status == 0 && installed.stdout.contains("https://www.spid.gov.it/certification/op"), "\(installed.stdout) \(installed.stderr)")
        let foreign = try runCommand(VerifyCommandTests.binary, ["federation", "trust-mark", "add", "@" + state + "/gateway-mark.jwt", "--entity-id", rp,
                                                                 "--data-dir", server.data])
        #expect(foreign.status != 0 && foreign.stderr.contains("not to this gateway"), "\(foreign.stderr)")
        usleep(ServeCommandTests.trustPropagation)

        // The Entity Configuration: its media type, self-signed with a federation key that is none of the OIDC keys.
        let fetched = try runCommand("curl", ["-sk", "-D", "-", gateway + "/.well-known/openid-federation"])
        #expect(fetched.stdout.lowercased().contains("content-type: application/entity-statement+jwt"))
        let jwt = try #require(fetched.stdout.components(separatedBy: "\r\n\r\n").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let (header, ec) = try parts(jwt)
        #expect(header["typ"] as? String == "entity-statement+jwt")
        #expect(ec["iss"] as? String == gateway && ec["sub"] as? String == gateway && ec["authority_hints"] as? [String] == [ta])
        let federationKids = ((ec["jwks"] as? [String: Any])?["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        #expect(federationKids.contains(header["kid"] as? String ?? "-"))
        let metadata = try #require(ec["metadata"] as? [String: Any])
        let op = try #require(metadata["openid_provider"] as? [String: Any])
        let oidcKids = ((op["jwks"] as? [String: Any])?["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        #expect(!oidcKids.isEmpty && Set(oidcKids).isDisjoint(with: federationKids), "federation keys are separate from the OIDC keys")
        #expect(op["jwks_uri"] == nil && op["client_registration_types_supported"] as? [String] == ["automatic"])
        #expect(op["subject_types_supported"] as? [String] == ["pairwise"] && op["token_endpoint_auth_methods_supported"] as? [String] == ["private_key_jwt"])
        #expect((metadata["federation_entity"] as? [String: Any])?["organization_name"] as? String == "Regione di Prova")
        let marks = ec["trust_marks"] as? [[String: Any]] ?? []
        #expect(marks.count == 1 && marks.first?["trust_mark_type"] as? String == "https://www.spid.gov.it/certification/op", "\(marks)")
        let schemas = try json(try runCommand(Self.python, [Self.script, "validate-op", "--gateway", gateway]), "validate-op")
        let errors = try #require(schemas["errors"] as? [String: Any])
        #expect(errors["spid"] is NSNull && errors["cie"] is NSNull, "spid-cie-oidc's OP metadata schemas: \(errors)")

        // A citizen: the RP's button, the gateway's card listener and consent page, back to the RP's landing page.
        let login = try json(try runCommand(Self.python, [Self.script, "login", "--rp", rp, "--gateway", gateway,
                                                          "--card-cert", "\(server.demo)/cards/\(Self.card).pem",
                                                          "--card-key", "\(server.demo)/cards/\(Self.card).key"], timeout: 180), "login")
        #expect(login["authorize"] as? String == gateway + "/oidc/authorize", "\(login)")
        #expect(login["callback"] as? String == rp + "callback" && (login["callback_params"] as? [String]) == ["code", "iss", "state"], "\(login)")
        #expect(login["landing_status"] as? Int == 200, "\(login)")
        let landing = login["landing_text"] as? String ?? ""
        #expect(landing.contains("fiscal_number: TINIT-RCCMNL83S18D969H") && landing.contains("first_name: Mario"), "\(landing.prefix(1500))")

        // The RP is now a client of the gateway, marked as a federation entity, with its anchor and chain expiry.
        let list = try runCommand(VerifyCommandTests.binary, ["client", "list", "--json", "--data-dir", server.data])
        let clients = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let entry = try #require(clients.first { $0["clientID"] as? String == rp })
        #expect(entry["registration"] as? String == "federation" && (entry["federation"] as? [String: Any])?["trustAnchor"] as? String == ta)
        let status = try runCommand(VerifyCommandTests.binary, ["federation", "status", "--data-dir", server.data])
        #expect(status.stdout.contains(ta) && status.stdout.contains(rp) && status.stdout.contains("valid until"), "\(status.stdout)")

        // An entity the anchor does not know: a page (never a redirect to its redirect_uri), audited with the reason.
        let stranger = "http://127.0.0.1:\(rpPort)/stranger/"
        let query = "client_id=\(stranger)&redirect_uri=https://evil.example/cb&response_type=code&scope=openid&state=s".replacingOccurrences(of: ":", with: "%3A")
            .replacingOccurrences(of: "/", with: "%2F")
        let refused = try runCommand("curl", ["-sk", "-o", "-", "-w", "\n%{http_code} %{redirect_url}", gateway + "/oidc/authorize?" + query])
        #expect(refused.stdout.hasSuffix("\n400 "), "\(refused.stdout.suffix(300))")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("trust_chain_fetch_failed") && audit.contains("federation_client_registered"), "\(audit.suffix(2000))")

        // Unpinning the anchor removes the relying parties registered through it at once: the next login is refused.
        let unpinned = try runCommand(VerifyCommandTests.binary, ["federation", "anchor", "remove", ta, "--data-dir", server.data])
        #expect(unpinned.status == 0 && unpinned.stdout.contains("removed 1 relying party"), "\(unpinned.stdout) \(unpinned.stderr)")
        usleep(ServeCommandTests.trustPropagation)
        let again = try json(try runCommand(Self.python, [Self.script, "login", "--rp", rp, "--gateway", gateway,
                                                          "--card-cert", "\(server.demo)/cards/\(Self.card).pem",
                                                          "--card-key", "\(server.demo)/cards/\(Self.card).key"], timeout: 180), "login after unpinning")
        let failure = again["failure"] as? [String: Any]
        #expect(again["landing_status"] == nil && failure?["stage"] as? String == "authorize" && failure?["status"] as? Int == 400, "\(again)")
        let refusals = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(refusals.contains("trust_chain_no_trust_anchor"), "\(refusals.suffix(1500))")
    }
}
