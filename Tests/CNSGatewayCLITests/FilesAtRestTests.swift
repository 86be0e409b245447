import CNSTestSupport
import Foundation
import Testing

/// The data folder, the database and every key file are the gateway's alone, and the private keys in the database
/// are sealed with a key kept outside it; a folder others can read, or a wrong or missing key, stops start-up and
/// changes nothing.
@Suite(.serialized) struct FilesAtRestTests {
    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// `cnsgw serve` that is expected to stop at once: (exit status, stderr).
    func serveFails(_ data: String, environment: [String] = []) throws -> (Int32, String) {
        let r = try runCommand("/usr/bin/env", environment + [VerifyCommandTests.binary, "serve", "--data-dir", data, "--public-port", "\(LocalService.freePort())",
                                                              "--card-port", "\(LocalService.freePort())"], timeout: 30)
        return (r.status, r.stderr + r.stdout)
    }

    /// The database's content (SQLite may fold its write-ahead log into the file when it is opened).
    func digest(_ path: String) throws -> String { try runCommand("sqlite3", [path, ".dump"]).stdout }

    @Test("fresh data folder 0700, database and key files 0600, private keys sealed in the database; unsafe modes and wrong or missing keys stop start-up")
    func filesAndKeys() throws {
        let server = try ServeCommandTests.Server()
        let data = server.data
        #expect(mode(data) == 0o700)
        for file in ["cnsgw.sqlite", "cnsgw.sqlite-wal", "server.key", "keys.kek"] where FileManager.default.fileExists(atPath: data + "/" + file) {
            #expect(mode(data + "/" + file) == 0o600, "\(file): \(String(mode(data + "/" + file), radix: 8))")
        }
        #expect(FileManager.default.fileExists(atPath: data + "/keys.kek"))
        let keys = try runCommand("sqlite3", [data + "/cnsgw.sqlite", "SELECT use || ' ' || substr(private_key, 1, 20) FROM signing_key"]).stdout
        #expect(keys.contains("saml cnsgw-sealed:v1:") && keys.contains("oidc cnsgw-sealed:v1:") && !keys.contains("PRIVATE KEY"), "\(keys)")
        // The gateway works with sealed keys: signed metadata and a JWKS.
        #expect(try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/readyz"]).stdout.contains("ready"))
        #expect(try runCommand("curl", ["-sk", "https://127.0.0.1:\(server.publicPort)/saml/metadata"]).stdout.contains("SignatureValue"))
        #expect(server.process.terminate() == 0)

        // A data folder others can read.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data)
        let (openStatus, openMessage) = try serveFails(data)
        #expect(openStatus == 2 && openMessage.contains("chmod 700 \(data)"), "\(openStatus) \(openMessage)")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: data)
        // A key file others can read.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: data + "/server.key")
        let (keyStatus, keyMessage) = try serveFails(data)
        #expect(keyStatus == 2 && keyMessage.contains("chmod 600 \(data)/server.key"), "\(keyMessage)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: data + "/server.key")

        // A wrong key-encryption key: refused, nothing written.
        let kek = try #require(FileManager.default.contents(atPath: data + "/keys.kek"))
        let before = try digest(data + "/cnsgw.sqlite")
        try Data(repeating: 0x42, count: 32).write(to: URL(fileURLWithPath: data + "/keys.kek"))
        let (wrongStatus, wrongMessage) = try serveFails(data)
        #expect(wrongStatus == 2 && wrongMessage.contains("does not open the stored key"), "\(wrongMessage)")
        #expect(try digest(data + "/cnsgw.sqlite") == before)
        // A missing one: refused, and no new key is made in its place.
        try FileManager.default.removeItem(atPath: data + "/keys.kek")
        let (missingStatus, missingMessage) = try serveFails(data)
        #expect(missingStatus == 2 && missingMessage.contains("keys.encryption_key_file") && missingMessage.contains("does not exist"), "\(missingMessage)")
        #expect(!FileManager.default.fileExists(atPath: data + "/keys.kek"))
        #expect(try digest(data + "/cnsgw.sqlite") == before)
        // The right key from the environment instead of the file: the gateway starts again.
        let again = try ServeCommandTests.Server(data: data, environment: ["CNSGW_KEYS_ENCRYPTION_KEY=" + kek.base64EncodedString()])
        defer { again.process.stop() }
        #expect(try runCommand("curl", ["-sk", "https://127.0.0.1:\(again.publicPort)/readyz"]).stdout.contains("ready"))
    }
}
