import Foundation
import GatewayStorage

/// A ``GatewayStorage`` that keeps private signing keys and gateway secrets sealed (AES-256-GCM with the
/// ``KeyEncryptionKey``) in the storage below it, and open above it: everything else passes through. Written as a
/// decorator so that no backend (SQLite, PostgreSQL) and no caller has to know about sealing.
public struct SealedKeyStorage: GatewayStorage {
    public let base: any GatewayStorage
    let kek: KeyEncryptionKey

    public init(_ base: any GatewayStorage, kek: KeyEncryptionKey) {
        self.base = base
        self.kek = kek
    }

    // MARK: sealing

    func sealed(_ r: SigningKeyRecord) throws -> SigningKeyRecord {
        guard !KeyEncryptionKey.isSealed(r.privateKeyPEM) else { return r }
        var s = r
        s.privateKeyPEM = try kek.seal(Data(r.privateKeyPEM.utf8), context: "signing_key/" + r.id)
        return s
    }

    func opened(_ r: SigningKeyRecord) throws -> SigningKeyRecord {
        guard KeyEncryptionKey.isSealed(r.privateKeyPEM) else { return r }   // written before sealing: ``sealAll()`` seals it
        var o = r
        o.privateKeyPEM = String(decoding: try kek.open(r.privateKeyPEM, context: "signing_key/" + r.id), as: UTF8.self)
        return o
    }

    /// The sealing context of a gateway secret (the name it had as a registration, so secrets sealed then still open).
    static func context(secret name: String) -> String { "registration/gateway-secret/" + name }

    func sealed(_ r: GatewaySecretRecord) throws -> GatewaySecretRecord {
        guard !KeyEncryptionKey.isSealed(String(decoding: r.value, as: UTF8.self)) else { return r }
        var s = r
        s.value = Data(try kek.seal(r.value, context: Self.context(secret: r.name)).utf8)
        return s
    }

    func opened(_ r: GatewaySecretRecord) throws -> GatewaySecretRecord {
        let text = String(decoding: r.value, as: UTF8.self)
        guard KeyEncryptionKey.isSealed(text) else { return r }
        var o = r
        o.value = try kek.open(text, context: Self.context(secret: r.name))
        return o
    }

    /// The names of the gateway's secrets (what ``verifyAndSealAll()`` checks).
    public static let secretNames = ["oidc-subject-key"]

    /// Whether `storage` holds anything sealed (then only the key that sealed it may be used).
    public static func holdsSealedValues(_ storage: any GatewayStorage) async throws -> Bool {
        for use in SigningKeyRecord.uses where try await storage.signingKeys(use: use).contains(where: { KeyEncryptionKey.isSealed($0.privateKeyPEM) }) {
            return true
        }
        for name in secretNames {
            if let secret = try await storage.gatewaySecret(name: name), KeyEncryptionKey.isSealed(String(decoding: secret.value, as: UTF8.self)) { return true }
        }
        return false
    }

    /// Opens every sealed value (a wrong key fails here, before anything is written), then seals what was stored in
    /// the clear by an earlier version. Returns how many values it sealed.
    @discardableResult
    public func verifyAndSealAll() async throws -> Int {
        var plain: [SigningKeyRecord] = []
        for use in SigningKeyRecord.uses {
            for record in try await base.signingKeys(use: use) {
                _ = try opened(record)
                if !KeyEncryptionKey.isSealed(record.privateKeyPEM) { plain.append(record) }
            }
        }
        var plainSecrets: [GatewaySecretRecord] = []
        for name in Self.secretNames {
            guard let record = try await base.gatewaySecret(name: name) else { continue }
            _ = try opened(record)
            if !KeyEncryptionKey.isSealed(String(decoding: record.value, as: UTF8.self)) { plainSecrets.append(record) }
        }
        for record in plain { _ = try await updateSigningKey(id: record.id) { $0 } }
        var sealedSecrets = 0
        for record in plainSecrets where try await base.replaceGatewaySecretValue(name: record.name, expected: record.value, with: try sealed(record).value) {
            sealedSecrets += 1
        }
        return plain.count + sealedSecrets
    }

    // MARK: signing keys and gateway secrets (sealed below, open above)

    public func addSigningKey(_ record: SigningKeyRecord) async throws { try await base.addSigningKey(try sealed(record)) }
    public func signingKeys(use: String) async throws -> [SigningKeyRecord] { try await base.signingKeys(use: use).map(opened) }
    public func updateSigningKey(id: String, _ updater: @escaping @Sendable (SigningKeyRecord) throws -> SigningKeyRecord) async throws -> SigningKeyRecord {
        try opened(try await base.updateSigningKey(id: id) { stored in
            let open = try opened(stored)
            var next = try updater(open)
            // The key itself never changes: keep the stored form (already sealed), or seal a key stored in the clear.
            if next.privateKeyPEM == open.privateKeyPEM { next.privateKeyPEM = stored.privateKeyPEM }
            return try sealed(next)
        })
    }

    public func createGatewaySecret(_ record: GatewaySecretRecord) async throws { try await base.createGatewaySecret(try sealed(record)) }
    public func gatewaySecret(name: String) async throws -> GatewaySecretRecord? { try await base.gatewaySecret(name: name).map(opened) }
    public func replaceGatewaySecretValue(name: String, expected: Data, with value: Data) async throws -> Bool {
        // Callers above see secrets open; the stored form is compared and written sealed.
        guard let stored = try await base.gatewaySecret(name: name), try opened(stored).value == expected else { return false }
        return try await base.replaceGatewaySecretValue(name: name, expected: stored.value,
                                                        with: try sealed(GatewaySecretRecord(name: name, value: value, createdAt: stored.createdAt)).value)
    }

    public func addRegistration(_ record: RegistrationRecord) async throws { try await base.addRegistration(record) }
    public func registrations(kind: String) async throws -> [RegistrationRecord] { try await base.registrations(kind: kind) }
    public func registration(kind: String, id: String) async throws -> RegistrationRecord? { try await base.registration(kind: kind, id: id) }
    public func updateRegistration(kind: String, id: String, _ updater: @escaping @Sendable (RegistrationRecord) throws -> RegistrationRecord) async throws -> RegistrationRecord {
        try await base.updateRegistration(kind: kind, id: id, updater)
    }
    public func removeRegistration(kind: String, id: String) async throws { try await base.removeRegistration(kind: kind, id: id) }

    // MARK: everything else passes through

    public func addTrustedCA(_ record: TrustedCARecord) async throws { try await base.addTrustedCA(record) }
    public func trustedCAs() async throws -> [TrustedCARecord] { try await base.trustedCAs() }
    public func trustedCA(id: String) async throws -> TrustedCARecord? { try await base.trustedCA(id: id) }
    public func updateTrustedCA(id: String, _ updater: @escaping @Sendable (TrustedCARecord) throws -> TrustedCARecord) async throws -> TrustedCARecord {
        try await base.updateTrustedCA(id: id, updater)
    }
    public func removeTrustedCA(id: String) async throws { try await base.removeTrustedCA(id: id) }
    public func applyTrustChanges(adding: [TrustedCARecord], removing: [String]) async throws { try await base.applyTrustChanges(adding: adding, removing: removing) }
    public func createPendingLogin(_ record: PendingLoginRecord) async throws { try await base.createPendingLogin(record) }
    public func pendingLogin(id: String) async throws -> PendingLoginRecord? { try await base.pendingLogin(id: id) }
    public func updatePendingLogin(id: String, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await base.updatePendingLogin(id: id, updater)
    }
    public func updatePendingLogin(from read: PendingLoginRecord, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await base.updatePendingLogin(from: read, updater)
    }
    public func deletePendingLogin(id: String) async throws { try await base.deletePendingLogin(id: id) }
    public func rememberOnce(namespace: String, key: String, now: Date, expiresAt: Date) async throws -> Bool {
        try await base.rememberOnce(namespace: namespace, key: key, now: now, expiresAt: expiresAt)
    }
    public func appendAudit(_ record: AuditRecord) async throws { try await base.appendAudit(record) }
    public func appendAudit(building build: @escaping @Sendable (AuditRecord?) throws -> [AuditRecord]) async throws -> [AuditRecord] {
        try await base.appendAudit(building: build)
    }
    public func lastAuditRecord() async throws -> AuditRecord? { try await base.lastAuditRecord() }
    public func auditRecords(since: Date?, limit: Int?) async throws -> [AuditRecord] { try await base.auditRecords(since: since, limit: limit) }
    public func createSession(_ record: SessionRecord) async throws { try await base.createSession(record) }
    public func session(id: String) async throws -> SessionRecord? { try await base.session(id: id) }
    public func updateSession(id: String, _ updater: @escaping @Sendable (SessionRecord) throws -> SessionRecord) async throws -> SessionRecord {
        try await base.updateSession(id: id, updater)
    }
    public func deleteSession(id: String) async throws { try await base.deleteSession(id: id) }
    public func storeSAMLRequest(_ record: SAMLRequestRecord) async throws { try await base.storeSAMLRequest(record) }
    public func takeSAMLRequest(loginID: String, now: Date) async throws -> SAMLRequestRecord? { try await base.takeSAMLRequest(loginID: loginID, now: now) }
    public func storeOIDCAuthorization(_ record: OIDCAuthorizationRecord) async throws { try await base.storeOIDCAuthorization(record) }
    public func takeOIDCAuthorization(loginID: String, now: Date) async throws -> OIDCAuthorizationRecord? {
        try await base.takeOIDCAuthorization(loginID: loginID, now: now)
    }
    public func recordSAMLNameID(_ record: SAMLNameIDRecord) async throws { try await base.recordSAMLNameID(record) }
    public func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) async throws -> SAMLNameIDRecord? {
        try await base.takeSAMLNameID(sessionID: sessionID, serviceProvider: serviceProvider, now: now)
    }
    public func storeSAMLLogout(_ record: SAMLLogoutRecord) async throws { try await base.storeSAMLLogout(record) }
    public func takeSAMLLogout(id: String, now: Date) async throws -> SAMLLogoutRecord? { try await base.takeSAMLLogout(id: id, now: now) }
    public func createGrant(_ grant: OAuthGrantRecord, code: OAuthTokenRecord) async throws { try await base.createGrant(grant, code: code) }
    public func storeGrantToken(_ token: OAuthTokenRecord) async throws { try await base.storeGrantToken(token) }
    public func redeemGrantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRedemption {
        try await base.redeemGrantToken(kind, id: id, now: now)
    }
    public func grant(id: String, now: Date) async throws -> OAuthGrantRecord? { try await base.grant(id: id, now: now) }
    public func grantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRecord? {
        try await base.grantToken(kind, id: id, now: now)
    }
    public func revokeGrant(id: String, now: Date) async throws -> Bool { try await base.revokeGrant(id: id, now: now) }
    public func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws {
        try await base.recordSessionIdentifier(sid, sessionID: sessionID, expiresAt: expiresAt)
    }
    public func sessionID(forSessionIdentifier sid: String, now: Date) async throws -> String? {
        try await base.sessionID(forSessionIdentifier: sid, now: now)
    }
    public func garbageCollect(now: Date, auditRetention: TimeInterval?) async throws -> GarbageCollectionResult {
        try await base.garbageCollect(now: now, auditRetention: auditRetention)
    }
}
