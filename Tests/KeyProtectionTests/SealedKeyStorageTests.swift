import Foundation
import GatewayStorage
import GatewayStorageSQLite
import KeyProtection
import StorageConformance
import Testing

@Suite struct SealedKeyStorageTests {
    func sqlite() throws -> SQLiteGatewayStorage {
        try SQLiteGatewayStorage(path: NSTemporaryDirectory() + "cnsgw-sealed-\(UUID().uuidString).sqlite")
    }

    static let pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"

    @Test("private keys and gateway secrets are sealed below and open above; a wrong key opens nothing")
    func sealing() async throws {
        let base = try sqlite()
        let kek = KeyEncryptionKey.generate()
        let sealed = SealedKeyStorage(base, kek: kek)
        let now = Date()
        try await sealed.addSigningKey(SigningKeyRecord(id: "k1", use: "saml", algorithm: "RS256", privateKeyPEM: Self.pem, certificatePEM: nil,
                                                        state: .active, createdAt: now))
        try await sealed.createGatewaySecret(GatewaySecretRecord(name: "oidc-subject-key", value: Data([1, 2, 3]), createdAt: now))
        try await sealed.addRegistration(RegistrationRecord(kind: "saml-sp", id: "sp", json: Data("{}".utf8), createdAt: now, updatedAt: now))
        // Below: no private key in the clear; the ordinary registration untouched.
        let stored = try #require(try await base.signingKeys(use: "saml").first)
        #expect(KeyEncryptionKey.isSealed(stored.privateKeyPEM) && !stored.privateKeyPEM.contains("PRIVATE KEY"))
        #expect(try await base.gatewaySecret(name: "oidc-subject-key").map { KeyEncryptionKey.isSealed(String(decoding: $0.value, as: UTF8.self)) } == true)
        #expect(try await base.registration(kind: "saml-sp", id: "sp")?.json == Data("{}".utf8))
        // Above: open.
        #expect(try await sealed.signingKeys(use: "saml").first?.privateKeyPEM == Self.pem)
        #expect(try await sealed.gatewaySecret(name: "oidc-subject-key")?.value == Data([1, 2, 3]))
        let updated = try await sealed.updateSigningKey(id: "k1") { var r = $0; r.state = .retired; return r }
        #expect(updated.privateKeyPEM == Self.pem && updated.state == .retired)
        #expect(KeyEncryptionKey.isSealed(try #require(try await base.signingKeys(use: "saml").first).privateKeyPEM))
        #expect(try await SealedKeyStorage.holdsSealedValues(base))
        // Another key: every read of a sealed value fails with a sentence naming the setting.
        let wrong = SealedKeyStorage(base, kek: KeyEncryptionKey.generate())
        await #expect(throws: KeyEncryptionKey.Failure.self) { try await wrong.signingKeys(use: "saml") }
        await #expect(throws: KeyEncryptionKey.Failure.self) { try await wrong.verifyAndSealAll() }
        // A sealed value moved to another record does not open (the record's id is authenticated).
        var moved = stored
        moved.id = "k2"
        try await base.addSigningKey(moved)
        await #expect(throws: KeyEncryptionKey.Failure.self) { try await sealed.signingKeys(use: "saml") }
    }

    @Test("keys and secrets stored in the clear by an earlier version are sealed at start-up")
    func sealsPlaintext() async throws {
        let base = try sqlite()
        try await base.addSigningKey(SigningKeyRecord(id: "old", use: "oidc", algorithm: "ES256", privateKeyPEM: Self.pem, certificatePEM: nil,
                                                      state: .active, createdAt: Date()))
        try await base.createGatewaySecret(GatewaySecretRecord(name: "oidc-subject-key", value: Data(repeating: 9, count: 32), createdAt: Date()))
        #expect(try await !SealedKeyStorage.holdsSealedValues(base))
        let sealed = SealedKeyStorage(base, kek: KeyEncryptionKey.generate())
        #expect(try await sealed.verifyAndSealAll() == 2)
        #expect(try await sealed.gatewaySecret(name: "oidc-subject-key")?.value == Data(repeating: 9, count: 32))
        #expect(try await base.gatewaySecret(name: "oidc-subject-key")?.value != Data(repeating: 9, count: 32))
        #expect(KeyEncryptionKey.isSealed(try #require(try await base.signingKeys(use: "oidc").first).privateKeyPEM))
        #expect(try await sealed.signingKeys(use: "oidc").first?.privateKeyPEM == Self.pem)
    }

    @Test("the key file: created 0600 only when nothing is sealed; refused when others can read it; a missing one is an error once keys are sealed")
    func keyFile() throws {
        let folder = NSTemporaryDirectory() + "cnsgw-kek-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/keys.kek"
        #expect(throws: KeyEncryptionKey.Failure.self) { try KeyEncryptionKey.load(base64: nil, file: file, mayCreate: false) }
        #expect(!FileManager.default.fileExists(atPath: file))
        _ = try KeyEncryptionKey.load(base64: nil, file: file, mayCreate: true)
        let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        _ = try KeyEncryptionKey.load(base64: nil, file: file, mayCreate: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect { try KeyEncryptionKey.load(base64: nil, file: file, mayCreate: false) } throws: { error in
            "\(error)".contains("chmod 600 \(file)")
        }
        #expect(throws: KeyEncryptionKey.Failure.self) { try KeyEncryptionKey.load(base64: "c2hvcnQ=", file: file, mayCreate: false) }
        _ = try KeyEncryptionKey.load(base64: Data(repeating: 7, count: 32).base64EncodedString(), file: file, mayCreate: false)
    }

    @Test("the sealing decorator passes the shared storage conformance suite")
    func conformance() async throws {
        try await StorageConformance.run { SealedKeyStorage(try sqlite(), kek: KeyEncryptionKey.generate()) }
    }
}
