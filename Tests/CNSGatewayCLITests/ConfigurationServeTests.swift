import CNSTestSupport
import Foundation
import Testing

/// `cnsgw serve --config`: the settings file, environment overrides, and start-up refusals that name the setting.
@Suite(.serialized) struct ConfigurationServeTests {
    func temporary(_ name: String) -> String { NSTemporaryDirectory() + "cnsgw-\(name)-\(UUID().uuidString)" }

    @Test("a bad setting in the file or the environment stops start-up with exit 2 and names the setting and its origin")
    func badSettingsStopStartUp() throws {
        let file = temporary("bad") + ".yaml"
        try "card:\n  port: 99999\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try runCommand(VerifyCommandTests.binary, ["serve", "--config", file, "--data-dir", temporary("data")], timeout: 30)
        #expect(fromFile.status == 2 && fromFile.stderr.contains("setting card.port") && fromFile.stderr.contains(file), "\(fromFile.stderr)")
        let fromEnvironment = try runCommand("env", ["CNSGW_SSO_LEVELS=SpidL9", VerifyCommandTests.binary, "serve", "--data-dir", temporary("data")], timeout: 30)
        #expect(fromEnvironment.status == 2 && fromEnvironment.stderr.contains("sso.levels") && fromEnvironment.stderr.contains("$CNSGW_SSO_LEVELS"),
                "\(fromEnvironment.stderr)")
        let typo = try runCommand("env", ["CNSGW_CARD_PROT=1", VerifyCommandTests.binary, "serve", "--data-dir", temporary("data")], timeout: 30)
        #expect(typo.status == 2 && typo.stderr.contains("CNSGW_CARD_PROT"), "\(typo.stderr)")
        let missingKey = try runCommand("env", ["CNSGW_TLS_CERTIFICATE=/nonexistent.pem", VerifyCommandTests.binary, "serve", "--data-dir", temporary("data")], timeout: 30)
        #expect(missingKey.status == 2 && missingKey.stderr.contains("tls.certificate"), "\(missingKey.stderr)")
    }

    @Test("listeners and audit pseudonyms from the file, the data folder from the environment; signing keys generated once")
    func settingsFromFileAndEnvironment() throws {
        let data = temporary("data")
        let (publicPort, cardPort) = (LocalService.freePort(), LocalService.freePort())
        let file = temporary("good") + ".yaml"
        try """
            public:
              port: \(publicPort)
            card:
              port: \(cardPort)
              url: https://carta.example.it
            audit:
              pseudonymise_codice_fiscale: true
            crl:
              refresh_interval: 1s
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let server = try LocalService(["/usr/bin/env", "CNSGW_DATA_DIR=\(data)", "CNSGW_CONFIG=\(file)", VerifyCommandTests.binary, "serve"], port: cardPort)
        defer { server.stop() }
        try server.waitUntilListening(timeout: 60)
        let index = try runCommand("curl", ["-sk", "https://127.0.0.1:\(publicPort)/"]).stdout
        #expect(index.contains("https://carta.example.it/login/card"), "\(index)")
        let card = data + "/demo-pki/cards/rccmnl83s18d969h"
        let login = try runCommand("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--cert", card + ".pem", "--key", card + ".key",
                                            "https://127.0.0.1:\(cardPort)/login/card"])
        #expect(login.stdout == "200")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", data]).stdout
        #expect(audit.contains("\"codiceFiscale\":\"hmac-sha256:") && !audit.contains("RCCMNL83S18D969H"), "\(audit)")
        #expect(FileManager.default.fileExists(atPath: data + "/audit-pseudonym.key"))
        let keys = try runCommand("sqlite3", [data + "/cnsgw.sqlite", "SELECT use || ':' || algorithm || ':' || state FROM signing_key ORDER BY use, algorithm"])
        #expect(keys.stdout == "federation:RS256:active\noidc:ES256:active\noidc:RS256:active\noidc-encryption:RSA-OAEP:active\nsaml:RS256:active\n",
                "\(keys.stdout) \(keys.stderr)")
        #expect(server.terminate() == 0)
    }

    @Test("a corrupted database stops start-up with a clear error and is left as it was")
    func corruptedDatabase() throws {
        let data = temporary("corrupt")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        #expect(FileManager.default.createFile(atPath: data + "/cnsgw.sqlite", contents: garbage, attributes: [.posixPermissions: 0o600]))
        let r = try runCommand(VerifyCommandTests.binary, ["serve", "--data-dir", data, "--public-port", "\(LocalService.freePort())",
                                                           "--card-port", "\(LocalService.freePort())"], timeout: 30)
        #expect(r.status == 2 && r.stderr.contains("is not a readable cnsgw database") && r.stderr.contains("nothing was changed"), "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: data + "/cnsgw.sqlite") == garbage)
    }
}
