import CNSTestSupport
import Foundation
import Testing

/// `cnsgw ca` and `cnsgw audit` on a data folder, as an admin runs them.
@Suite struct AdminCommandTests {
    func cnsgw(_ args: String...) throws -> CommandResult { try runCommand(VerifyCommandTests.binary, args) }

    @Test("ca add/list/remove change what verify trusts, each change is audited, tampering is detected")
    func trustAdministration() throws {
        let pki = VerifyCommandTests.pki
        let data = NSTemporaryDirectory() + "cnsgw-data-\(UUID().uuidString)"
        let card = "\(pki)/cards/rccmnl83s18d969h.pem"
        // Nothing trusted yet: the card is untrusted.
        let before = try cnsgw("verify", card, "--data-dir", data, "--crl", "\(pki)/crl.der", "--offline", "--json")
        #expect(before.status == 1 && before.stdout.contains("\"reason\":\"untrusted\""), "\(before.stdout)\(before.stderr)")

        let add = try cnsgw("ca", "add", "\(pki)/ca.pem", "--data-dir", data, "--level", "SpidL3", "--revocation", "crl-only", "--soft-fail-max-age", "12h")
        #expect(add.status == 0 && add.stdout.contains("SpidL3"), "\(add.stderr)")
        #expect(try cnsgw("ca", "add", "\(pki)/cards/rccmnl83s18d969h.pem", "--data-dir", data).status == 2)   // not a CA
        #expect(try cnsgw("ca", "add", "\(pki)/ca.pem", "--data-dir", data, "--soft-fail-max-age", "soon").status == 2)

        let list = try cnsgw("ca", "list", "--data-dir", data, "--json")
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1 && rows?.first?["level"] as? String == "SpidL3" && rows?.first?["softFailMaxStaleness"] as? Double == 43_200)
        let id = try #require(rows?.first?["id"] as? String)

        let after = try cnsgw("verify", card, "--data-dir", data, "--crl", "\(pki)/crl.der", "--offline", "--json")
        #expect(after.status == 0 && after.stdout.contains("\"level\":\"SpidL3\""), "\(after.stdout)")

        #expect(try cnsgw("ca", "remove", "abc", "--data-dir", data).status == 2)
        #expect(try cnsgw("ca", "remove", String(id.prefix(12)), "--data-dir", data).status == 0)
        #expect(try cnsgw("verify", card, "--data-dir", data, "--crl", "\(pki)/crl.der", "--offline").status == 1)

        let verified = try cnsgw("audit", "verify", "--data-dir", data)
        #expect(verified.status == 0 && verified.stdout.contains("2 records"), "\(verified.stdout)")
        let export = try cnsgw("audit", "export", "--data-dir", data)
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains("ca.add") && lines[1].contains("ca.remove"))
        #expect(try cnsgw("audit", "export", "--data-dir", data, "--format", "csv").stdout.hasPrefix("sequence,time,kind"))

        // Someone edits the database behind the gateway's back.
        let edit = try runCommand("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"update audit_log set payload=x'7b7d' where sequence=1\"); c.commit()",
                                              data + "/cnsgw.sqlite"])
        #expect(edit.status == 0, "\(edit.stderr)")
        let broken = try cnsgw("audit", "verify", "--data-dir", data)
        #expect(broken.status == 1 && broken.stdout.contains("BROKEN at record 1"))
    }

    @Test("a data folder whose database is not a database stops the command with a clear error and is left as it was")
    func corruptedDatabase() throws {
        let data = NSTemporaryDirectory() + "cnsgw-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let garbage = Data(repeating: 0x5A, count: 4096)
        FileManager.default.createFile(atPath: data + "/cnsgw.sqlite", contents: garbage)
        let r = try cnsgw("ca", "list", "--data-dir", data)
        #expect(r.status == 2 && r.stderr.contains("not a readable cnsgw database"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: data + "/cnsgw.sqlite") == garbage)
    }
}
