import CNSTestSupport
import Foundation
import Testing

/// The `cnsgw` binary as admins and conformance suites script it: exit statuses, the JSON contract, testpki.
@Suite struct VerifyCommandTests {
    /// The `cnsgw` built beside this test bundle.
    static let binary: String = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let p = candidate.appendingPathComponent("cnsgw").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return dir.appendingPathComponent("cnsgw").path
    }()

    static func cnsgw(_ args: String...) throws -> CommandResult { try runCommand(binary, args) }
    static func cnsgw(_ args: [String]) throws -> CommandResult { try runCommand(binary, args) }

    /// A test PKI with one good, one revoked, one expired and one RSA-1024 card, made by the CLI itself.
    static let pki: String = {
        let dir = NSTemporaryDirectory() + "cnsgw-cli-\(UUID().uuidString)"
        _ = try? cnsgw("testpki", "init", dir)
        _ = try? cnsgw("testpki", "card", dir, "--cf", "RCCMNL83S18D969H", "--given-name", "Mario", "--surname", "Rossi")
        _ = try? cnsgw("testpki", "card", dir, "--cf", "RSSMRA80A01H501U", "--given-name", "Maria", "--surname", "Rossi", "--revoked")
        _ = try? cnsgw("testpki", "card", dir, "--cf", "BNCLRA90B68H501Z", "--given-name", "Laura", "--surname", "Bianchi", "--expired")
        _ = try? cnsgw("testpki", "card", dir, "--cf", "VRDGPP70C10F205B", "--given-name", "Giuseppe", "--surname", "Verdi", "--key", "rsa1024")
        return dir
    }()

    func verify(_ card: String, _ extra: [String] = []) throws -> (CommandResult, [String: Any]) {
        let r = try Self.cnsgw(["verify", "\(Self.pki)/cards/\(card).pem", "--trust", "\(Self.pki)/ca.pem",
                                "--crl", "\(Self.pki)/crl.der", "--offline", "--json"] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        return (r, json)
    }

    @Test("a valid card: exit 0 and the documented JSON object")
    func validCard() throws {
        let (r, json) = try verify("rccmnl83s18d969h")
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(json["valid"] as? Bool == true)
        #expect(json["reason"] is NSNull)
        #expect((json["chain"] as? [String])?.count == 2)
        #expect(json["level"] as? String == "SpidL2")
        let revocation = json["revocation"] as? [String: Any]
        #expect(revocation?["method"] as? String == "crl" && revocation?["status"] as? String == "good")
        #expect((revocation?["source"] as? String)?.hasSuffix("crl.der") == true)
        let identity = json["identity"] as? [String: Any]
        #expect(identity?["fiscalNumber"] as? String == "TINIT-RCCMNL83S18D969H")
        #expect(identity?["codiceFiscale"] as? String == "RCCMNL83S18D969H")
        #expect(identity?["name"] as? String == "MARIO" && identity?["familyName"] as? String == "ROSSI")
        #expect(identity?["dateOfBirth"] as? String == "1983-11-18" && identity?["gender"] as? String == "M")
        #expect((identity?["placeOfBirth"] as? [String: Any])?["code"] as? String == "D969")
        #expect((identity?["cardId"] as? String)?.hasPrefix("6") == true)
        for key in ["valid", "reason", "detail", "chain", "revocation", "level", "identity"] { #expect(json[key] != nil, "missing \(key)") }
    }

    @Test("revoked, expired, RSA-1024, not yet valid: each with its exit status and reason")
    func decisions() throws {
        let (revoked, rj) = try verify("rssmra80a01h501u")
        #expect(revoked.status == 1 && rj["reason"] as? String == "revoked")
        let (expired, ej) = try verify("bnclra90b68h501z")
        #expect(expired.status == 1 && ej["reason"] as? String == "expired")
        let (legacy, lj) = try verify("vrdgpp70c10f205b")
        #expect(legacy.status == 0 && (lj["legacyCrypto"] as? [String]) == ["rsa1024"], "\(legacy.stdout)")
        let (early, yj) = try verify("rccmnl83s18d969h", ["--at", "2001-01-01T00:00:00Z"])
        #expect(early.status == 1 && yj["reason"] as? String == "not_yet_valid")
        let (unchecked, uj) = try verify("rssmra80a01h501u", ["--no-revocation"])
        #expect(unchecked.status == 0 && (uj["revocation"] as? [String: Any])?["status"] as? String == "not_checked")
        let (policy, pj) = try verify("rccmnl83s18d969h", ["--policy", "1.3.76.47.4"])
        #expect(policy.status == 1 && pj["reason"] as? String == "policy")
        let text = try Self.cnsgw("verify", "\(Self.pki)/cards/rccmnl83s18d969h.pem", "--trust", Self.pki + "/ca.pem", "--crl", Self.pki + "/crl.der", "--offline")
        #expect(text.status == 0 && text.stdout.hasPrefix("VALID") && text.stdout.contains("TINIT-RCCMNL83S18D969H"))
    }

    @Test("unparsable certificates are 'not valid (malformed)'; bad invocations and unreadable files exit 2")
    func badInput() throws {
        let garbage = NSTemporaryDirectory() + "garbage-\(UUID().uuidString).pem"
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n".utf8))
        let m = try Self.cnsgw("verify", garbage, "--trust", Self.pki + "/ca.pem", "--json")
        #expect(m.status == 1 && m.stdout.contains("\"reason\":\"malformed\""), "\(m.stdout)")
        #expect(try Self.cnsgw("verify", "/nonexistent.pem", "--trust", Self.pki + "/ca.pem").status == 2)
        #expect(try Self.cnsgw("verify", Self.pki + "/cards/rccmnl83s18d969h.pem").status == 2)
        #expect(try Self.cnsgw("verify", Self.pki + "/cards/rccmnl83s18d969h.pem", "--trust", "/nonexistent").status == 2)
        #expect(try Self.cnsgw("verify", Self.pki + "/cards/rccmnl83s18d969h.pem", "--trust", Self.pki + "/ca.pem", "--at", "yesterday").status == 2)
        #expect(try Self.cnsgw("verify", Self.pki + "/cards/rccmnl83s18d969h.pem", "--trust", Self.pki + "/ca.pem", "--bogus").status == 2)
        #expect(try Self.cnsgw("verify", Self.pki + "/cards/rccmnl83s18d969h.pem", "--trust", Self.pki + "/ca.pem", "--crl", "/nonexistent.crl").status == 2)
        #expect(try Self.cnsgw("bogus-command").status == 2)
        #expect(try Self.cnsgw("--help").status == 0)
    }

    @Test("cnsgw cf decodes, validates and reports in JSON")
    func codiceFiscale() throws {
        let ok = try Self.cnsgw("cf", "RCCMNL83S18D96VW", "--json")
        #expect(ok.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any]
        #expect(json?["valid"] as? Bool == true && json?["omocodiaLevel"] as? Int == 1 && json?["baseCode"] as? String == "RCCMNL83S18D969H")
        #expect(json?["placeOfBirth"] as? String == "Genova" && json?["province"] as? String == "GE" && json?["dateOfBirth"] as? String == "1983-11-18")
        let bad = try Self.cnsgw("cf", "RCCMNL83S18D969A", "--json")
        #expect(bad.status == 1 && bad.stdout.contains("check_character_mismatch"))
        #expect(try Self.cnsgw("cf").status == 2)
    }

    @Test("testpki refuses an invalid codice fiscale and a second init in the same folder")
    func testPKIGuards() throws {
        #expect(try Self.cnsgw("testpki", "card", Self.pki, "--cf", "NOTACODE", "--given-name", "A", "--surname", "B").status == 2)
        #expect(try Self.cnsgw("testpki", "init", Self.pki).status == 2)
        let readme = try String(contentsOfFile: Self.pki + "/README.txt", encoding: .utf8)
        #expect(readme.contains("openssl ocsp") && readme.contains("http.server"))
        #expect(FileManager.default.fileExists(atPath: Self.pki + "/cards/rccmnl83s18d969h.p12"))
        let p12 = try runCommand("openssl", ["pkcs12", "-in", Self.pki + "/cards/rccmnl83s18d969h.p12", "-passin", "pass:cnsgw-test", "-nokeys", "-clcerts"])
        #expect(p12.status == 0 && p12.stdout.contains("RCCMNL83S18D969H"), "\(p12.stderr)")
    }
}
