import Foundation

/// Everything the gateway persists, behind one async protocol that every backend (SQLite for one instance,
/// PostgreSQL for several) implements and proves with the shared conformance suite.
///
/// Conventions (after dex's storage): create fails with `.alreadyExists`, reads return `nil` for a missing
/// record, update is a compare-and-swap through an updater closure (`.notFound`, `.conflict`), and
/// `garbageCollect(now:)` removes what has expired.
public protocol GatewayStorage: Sendable {
    // MARK: trusted CAs
    func addTrustedCA(_ record: TrustedCARecord) async throws
    func trustedCAs() async throws -> [TrustedCARecord]
    func trustedCA(id: String) async throws -> TrustedCARecord?
    func updateTrustedCA(id: String, _ updater: @escaping @Sendable (TrustedCARecord) throws -> TrustedCARecord) async throws -> TrustedCARecord
    func removeTrustedCA(id: String) async throws
    /// Adds and removes trusted CAs in one transaction, so no decision ever sees half of a change (a trusted-list
    /// import). Fails with `.alreadyExists` or `.notFound` and changes nothing if any step would.
    func applyTrustChanges(adding: [TrustedCARecord], removing: [String]) async throws

    // MARK: pending logins
    func createPendingLogin(_ record: PendingLoginRecord) async throws
    func pendingLogin(id: String) async throws -> PendingLoginRecord?
    /// Applies `updater` to the stored record and stores the result with `version + 1`, unless another writer
    /// updated it in between (`.conflict`). A login's `createdAt` and `expiresAt` are fixed when it starts: an update
    /// keeps them as stored.
    func updatePendingLogin(id: String, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord
    /// ``updatePendingLogin(id:_:)`` starting from `read`, a record the caller has just read: while the stored record
    /// still has `read.version`, it is replaced by `updater(read)` in one statement, without being read again; when it
    /// has moved on (or `updater(read)` throws), the stored record is read and updated as ``updatePendingLogin(id:_:)``
    /// does, so the outcome is the same either way. A backend without the shortcut takes that path every time.
    func updatePendingLogin(from read: PendingLoginRecord, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord
    func deletePendingLogin(id: String) async throws

    // MARK: replay cache
    /// Records `key` in `namespace` until `expiresAt`. Returns false when it was already there and had not
    /// expired at `now` (a replay).
    func rememberOnce(namespace: String, key: String, now: Date, expiresAt: Date) async throws -> Bool

    // MARK: audit log
    /// Appends `record` if the last stored record's hash is `record.previousHash` and its sequence is
    /// `record.sequence - 1`; otherwise `.conflict` (another writer appended first: rebuild and retry).
    func appendAudit(_ record: AuditRecord) async throws
    /// Appends the records `build` makes from the current head (nil for an empty log), atomically: no other append
    /// comes between reading the head and writing them, so concurrent writers never retry. Each record must follow
    /// the one before (`sequence + 1`, `previousHash`), the first the head, else `.conflict` and nothing is written.
    func appendAudit(building build: @escaping @Sendable (AuditRecord?) throws -> [AuditRecord]) async throws -> [AuditRecord]
    func lastAuditRecord() async throws -> AuditRecord?
    /// Records in sequence order, optionally from a time on.
    func auditRecords(since: Date?, limit: Int?) async throws -> [AuditRecord]

    // MARK: single-sign-on sessions
    func createSession(_ record: SessionRecord) async throws
    /// The session, whether or not it has expired (callers compare `expiresAt`).
    func session(id: String) async throws -> SessionRecord?
    func updateSession(id: String, _ updater: @escaping @Sendable (SessionRecord) throws -> SessionRecord) async throws -> SessionRecord
    func deleteSession(id: String) async throws

    // MARK: the front ends' requests and logout state (each taken once: nil when taken before, unknown or expired)
    func storeSAMLRequest(_ record: SAMLRequestRecord) async throws
    func takeSAMLRequest(loginID: String, now: Date) async throws -> SAMLRequestRecord?
    func storeOIDCAuthorization(_ record: OIDCAuthorizationRecord) async throws
    func takeOIDCAuthorization(loginID: String, now: Date) async throws -> OIDCAuthorizationRecord?
    /// Records a NameID; a second record for the same session and service changes nothing.
    func recordSAMLNameID(_ record: SAMLNameIDRecord) async throws
    func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) async throws -> SAMLNameIDRecord?
    func storeSAMLLogout(_ record: SAMLLogoutRecord) async throws
    func takeSAMLLogout(id: String, now: Date) async throws -> SAMLLogoutRecord?

    // MARK: OAuth grants (OIDC codes, refresh tokens)
    /// Stores a grant with its authorization code, in one transaction (`.alreadyExists` if either exists).
    func createGrant(_ grant: OAuthGrantRecord, code: OAuthTokenRecord) async throws
    /// Stores another token of an existing grant (a refresh token).
    func storeGrantToken(_ token: OAuthTokenRecord) async throws
    /// Spends a token and reads its grant, atomically: of concurrent redemptions exactly one sees `.redeemed`.
    func redeemGrantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRedemption
    /// The grant, revoked or not, unless it is unknown or expired at `now`.
    func grant(id: String, now: Date) async throws -> OAuthGrantRecord?
    /// The token as stored (spent or not), unless it is unknown or expired at `now`.
    func grantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRecord?
    /// Marks a grant revoked. False when it is unknown, expired or was revoked before.
    func revokeGrant(id: String, now: Date) async throws -> Bool

    // MARK: OIDC session identifiers
    /// Records the `sid` clients see for a single-sign-on session; a second record of one `sid` changes nothing.
    func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws
    func sessionID(forSessionIdentifier sid: String, now: Date) async throws -> String?

    // MARK: registrations (service providers, clients)
    func addRegistration(_ record: RegistrationRecord) async throws
    func registrations(kind: String) async throws -> [RegistrationRecord]
    func registration(kind: String, id: String) async throws -> RegistrationRecord?
    func updateRegistration(kind: String, id: String, _ updater: @escaping @Sendable (RegistrationRecord) throws -> RegistrationRecord) async throws -> RegistrationRecord
    func removeRegistration(kind: String, id: String) async throws

    // MARK: gateway secrets
    /// Stores a secret unless one of that name exists (`.alreadyExists`: use the stored one).
    func createGatewaySecret(_ record: GatewaySecretRecord) async throws
    func gatewaySecret(name: String) async throws -> GatewaySecretRecord?
    /// Replaces a secret's stored form if it is still `expected` (sealing one stored in the clear); false otherwise.
    func replaceGatewaySecretValue(name: String, expected: Data, with value: Data) async throws -> Bool

    // MARK: signing keys
    func addSigningKey(_ record: SigningKeyRecord) async throws
    /// Keys of one use, oldest first.
    func signingKeys(use: String) async throws -> [SigningKeyRecord]
    func updateSigningKey(id: String, _ updater: @escaping @Sendable (SigningKeyRecord) throws -> SigningKeyRecord) async throws -> SigningKeyRecord

    // MARK: housekeeping
    /// Removes expired pending logins, replay entries, sessions, front-end requests, grants and their tokens, retired signing keys past
    /// `removeAfter`, and audit records older than `auditRetention`.
    /// Pending logins go ``PendingLoginRecord/keptAfterExpiry`` after they expire, everything else when it expires.
    func garbageCollect(now: Date, auditRetention: TimeInterval?) async throws -> GarbageCollectionResult
}

extension GatewayStorage {
    /// Without a shortcut of its own, a backend reads the record again and updates it.
    public func updatePendingLogin(from read: PendingLoginRecord, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await updatePendingLogin(id: read.id, updater)
    }

    /// Adds a registration, or replaces the JSON of the one with the same kind and ID.
    public func storeRegistration(kind: String, id: String, json: Data, now: Date) async throws {
        do {
            try await addRegistration(RegistrationRecord(kind: kind, id: id, json: json, createdAt: now, updatedAt: now))
        } catch let error as StorageError where error.code == .alreadyExists {
            try await replaceRegistration(kind: kind, id: id, json: json, now: now)
        }
    }

    /// Replaces a registration's JSON (compare-and-swap on its version, like every update).
    @discardableResult
    public func replaceRegistration(kind: String, id: String, json: Data, now: Date) async throws -> RegistrationRecord {
        try await updateRegistration(kind: kind, id: id) { r in
            var next = r
            next.json = json
            next.updatedAt = now
            return next
        }
    }
}
