import Foundation

/// ``GatewayStorage`` in memory, for tests of the engines and the login flow in one process (nothing survives the
/// process). It passes the same conformance suite as the SQL backends; every method runs on the actor, so each is
/// one atomic step as a transaction is there.
public actor InMemoryGatewayStorage: GatewayStorage {
    private var trusted: [String: TrustedCARecord] = [:]
    private var pending: [String: PendingLoginRecord] = [:]
    private var replay: [String: Date] = [:]
    private var auditLog: [AuditRecord] = []
    private var sessions: [String: SessionRecord] = [:]
    private var samlRequests: [String: SAMLRequestRecord] = [:]
    private var authorizations: [String: OIDCAuthorizationRecord] = [:]
    private var nameIDs: [String: SAMLNameIDRecord] = [:]
    private var logouts: [String: SAMLLogoutRecord] = [:]
    private var grants: [String: OAuthGrantRecord] = [:]
    private var grantTokens: [String: OAuthTokenRecord] = [:]
    private var sids: [String: (sessionID: String, expiresAt: Date)] = [:]
    private var registrationRecords: [String: RegistrationRecord] = [:]
    private var keys: [String: SigningKeyRecord] = [:]
    private var secrets: [String: GatewaySecretRecord] = [:]

    public init() {}

    private static func key(_ parts: String...) -> String { parts.joined(separator: "\u{0}") }

    // MARK: trusted CAs

    public func addTrustedCA(_ record: TrustedCARecord) throws {
        guard trusted[record.id] == nil else { throw StorageError(.alreadyExists, "a trusted CA with id \(record.id) exists") }
        trusted[record.id] = record
    }
    public func trustedCAs() -> [TrustedCARecord] { trusted.values.sorted { ($0.addedAt, $0.id) < ($1.addedAt, $1.id) } }
    public func trustedCA(id: String) -> TrustedCARecord? { trusted[id] }
    public func updateTrustedCA(id: String, _ updater: @escaping @Sendable (TrustedCARecord) throws -> TrustedCARecord) throws -> TrustedCARecord {
        guard let current = trusted[id] else { throw StorageError(.notFound, "no trusted CA with id \(id)") }
        var next = try updater(current)
        guard next.id == id else { throw StorageError(.conflict, "an update cannot change a trusted CA's id") }
        next.addedAt = current.addedAt
        trusted[id] = next
        return next
    }
    public func removeTrustedCA(id: String) throws {
        guard trusted.removeValue(forKey: id) != nil else { throw StorageError(.notFound, "no trusted CA with id \(id)") }
    }
    public func applyTrustChanges(adding: [TrustedCARecord], removing: [String]) throws {
        var next = trusted
        for id in removing where next.removeValue(forKey: id) == nil { throw StorageError(.notFound, "no trusted CA with id \(id)") }
        for r in adding {
            guard next[r.id] == nil else { throw StorageError(.alreadyExists, "a trusted CA with id \(r.id) exists") }
            next[r.id] = r
        }
        trusted = next
    }

    // MARK: pending logins

    public func createPendingLogin(_ record: PendingLoginRecord) throws {
        guard pending[record.id] == nil else { throw StorageError(.alreadyExists, "a pending login with id \(record.id) exists") }
        pending[record.id] = record
    }
    public func pendingLogin(id: String) -> PendingLoginRecord? { pending[id] }
    public func updatePendingLogin(id: String, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) throws -> PendingLoginRecord {
        guard let current = pending[id] else { throw StorageError(.notFound, "no pending login with id \(id)") }
        let next = try updater(current).stored(over: current)
        pending[id] = next
        return next
    }
    public func deletePendingLogin(id: String) throws {
        guard pending.removeValue(forKey: id) != nil else { throw StorageError(.notFound, "no pending login with id \(id)") }
    }

    // MARK: replay cache

    public func rememberOnce(namespace: String, key: String, now: Date, expiresAt: Date) -> Bool {
        let k = Self.key(namespace, key)
        if let until = replay[k], until > now { return false }
        replay[k] = expiresAt
        return true
    }

    // MARK: audit log

    public func appendAudit(_ record: AuditRecord) throws {
        let last = auditLog.last
        guard record.sequence == (last?.sequence ?? 0) + 1, record.previousHash == (last?.hash ?? "") else {
            throw StorageError(.conflict, "the audit log moved on (last sequence \(last?.sequence ?? 0)); rebuild the record and retry")
        }
        auditLog.append(record)
    }
    public func appendAudit(building build: @escaping @Sendable (AuditRecord?) throws -> [AuditRecord]) throws -> [AuditRecord] {
        var head = auditLog.last
        let records = try build(head)
        for r in records {
            guard r.sequence == (head?.sequence ?? 0) + 1, r.previousHash == (head?.hash ?? "") else {
                throw StorageError(.conflict, "record \(r.sequence) does not follow the head of the audit log")
            }
            head = r
        }
        auditLog += records
        return records
    }
    public func lastAuditRecord() -> AuditRecord? { auditLog.last }
    public func auditRecords(since: Date?, limit: Int?) -> [AuditRecord] {
        let selected = auditLog.filter { since == nil || $0.time >= since! }
        return limit.map { Array(selected.prefix($0)) } ?? selected
    }

    // MARK: single-sign-on sessions

    public func createSession(_ record: SessionRecord) throws {
        guard sessions[record.id] == nil else { throw StorageError(.alreadyExists, "a session with id \(record.id) exists") }
        sessions[record.id] = record
    }
    public func session(id: String) -> SessionRecord? { sessions[id] }
    public func updateSession(id: String, _ updater: @escaping @Sendable (SessionRecord) throws -> SessionRecord) throws -> SessionRecord {
        guard let current = sessions[id] else { throw StorageError(.notFound, "no session with id \(id)") }
        var next = try updater(current)
        guard next.id == id, next.certificateFingerprint == current.certificateFingerprint else {
            throw StorageError(.conflict, "an update cannot change a session's id or card")
        }
        next.version = current.version + 1
        sessions[id] = next
        return next
    }
    public func deleteSession(id: String) throws {
        guard sessions.removeValue(forKey: id) != nil else { throw StorageError(.notFound, "no session with id \(id)") }
    }

    // MARK: the front ends' requests and logout state

    private func take<V>(_ map: inout [String: V], _ key: String, now: Date, expiry: (V) -> Date) -> V? {
        guard let value = map.removeValue(forKey: key), expiry(value) > now else { return nil }
        return value
    }
    public func storeSAMLRequest(_ record: SAMLRequestRecord) throws {
        guard samlRequests[record.loginID] == nil else { throw StorageError(.alreadyExists, "login \(record.loginID) already has a SAML request") }
        samlRequests[record.loginID] = record
    }
    public func takeSAMLRequest(loginID: String, now: Date) -> SAMLRequestRecord? { take(&samlRequests, loginID, now: now) { $0.expiresAt } }
    public func storeOIDCAuthorization(_ record: OIDCAuthorizationRecord) throws {
        guard authorizations[record.loginID] == nil else {
            throw StorageError(.alreadyExists, "login \(record.loginID) already has an OIDC authorization request")
        }
        authorizations[record.loginID] = record
    }
    public func takeOIDCAuthorization(loginID: String, now: Date) -> OIDCAuthorizationRecord? { take(&authorizations, loginID, now: now) { $0.expiresAt } }
    public func recordSAMLNameID(_ record: SAMLNameIDRecord) {
        let k = Self.key(record.sessionID, record.serviceProvider)
        if nameIDs[k] == nil { nameIDs[k] = record }
    }
    public func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) -> SAMLNameIDRecord? {
        take(&nameIDs, Self.key(sessionID, serviceProvider), now: now) { $0.expiresAt }
    }
    public func storeSAMLLogout(_ record: SAMLLogoutRecord) throws {
        guard logouts[record.id] == nil else { throw StorageError(.alreadyExists, "a SAML logout \(record.id) exists") }
        logouts[record.id] = record
    }
    public func takeSAMLLogout(id: String, now: Date) -> SAMLLogoutRecord? { take(&logouts, id, now: now) { $0.expiresAt } }

    // MARK: OAuth grants

    public func createGrant(_ grant: OAuthGrantRecord, code: OAuthTokenRecord) throws {
        guard grants[grant.id] == nil else { throw StorageError(.alreadyExists, "a grant \(grant.id) exists") }
        guard grantTokens[Self.key(code.kind.rawValue, code.id)] == nil else { throw StorageError(.alreadyExists, "a code token \(code.id) exists") }
        grants[grant.id] = grant
        grantTokens[Self.key(code.kind.rawValue, code.id)] = code
    }
    public func storeGrantToken(_ token: OAuthTokenRecord) throws {
        let k = Self.key(token.kind.rawValue, token.id)
        guard grantTokens[k] == nil else { throw StorageError(.alreadyExists, "a \(token.kind.rawValue) token \(token.id) exists") }
        grantTokens[k] = token
    }
    public func redeemGrantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) -> OAuthTokenRedemption {
        let k = Self.key(kind.rawValue, id)
        guard var token = grantTokens[k], token.expiresAt > now else { return .notFound }
        guard token.spentAt == nil else { return .replayed(grantID: token.grantID) }
        token.spentAt = now
        grantTokens[k] = token
        let grant = grants[token.grantID].flatMap { $0.expiresAt > now && $0.revokedAt == nil ? $0 : nil }
        return .redeemed(grantID: token.grantID, grant: grant)
    }
    public func grant(id: String, now: Date) -> OAuthGrantRecord? { grants[id].flatMap { $0.expiresAt > now ? $0 : nil } }
    public func grantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) -> OAuthTokenRecord? {
        grantTokens[Self.key(kind.rawValue, id)].flatMap { $0.expiresAt > now ? $0 : nil }
    }
    public func revokeGrant(id: String, now: Date) -> Bool {
        guard var grant = grants[id], grant.expiresAt > now, grant.revokedAt == nil else { return false }
        grant.revokedAt = now
        grants[id] = grant
        return true
    }
    public func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) {
        if sids[sid] == nil { sids[sid] = (sessionID, expiresAt) }
    }
    public func sessionID(forSessionIdentifier sid: String, now: Date) -> String? {
        sids[sid].flatMap { $0.expiresAt > now ? $0.sessionID : nil }
    }

    // MARK: registrations

    public func addRegistration(_ record: RegistrationRecord) throws {
        let k = Self.key(record.kind, record.id)
        guard registrationRecords[k] == nil else { throw StorageError(.alreadyExists, "a \(record.kind) registration \(record.id) exists") }
        registrationRecords[k] = record
    }
    public func registrations(kind: String) -> [RegistrationRecord] {
        registrationRecords.values.filter { $0.kind == kind }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
    public func registration(kind: String, id: String) -> RegistrationRecord? { registrationRecords[Self.key(kind, id)] }
    public func updateRegistration(kind: String, id: String, _ updater: @escaping @Sendable (RegistrationRecord) throws -> RegistrationRecord) throws -> RegistrationRecord {
        let k = Self.key(kind, id)
        guard let current = registrationRecords[k] else { throw StorageError(.notFound, "no \(kind) registration \(id)") }
        var next = try updater(current)
        guard next.id == id, next.kind == kind else { throw StorageError(.conflict, "an update cannot change a registration's kind or id") }
        next.version = current.version + 1
        next.createdAt = current.createdAt
        registrationRecords[k] = next
        return next
    }
    public func removeRegistration(kind: String, id: String) throws {
        guard registrationRecords.removeValue(forKey: Self.key(kind, id)) != nil else { throw StorageError(.notFound, "no \(kind) registration \(id)") }
    }

    // MARK: gateway secrets

    public func createGatewaySecret(_ record: GatewaySecretRecord) throws {
        guard secrets[record.name] == nil else { throw StorageError(.alreadyExists, "a gateway secret \(record.name) exists") }
        secrets[record.name] = record
    }
    public func gatewaySecret(name: String) -> GatewaySecretRecord? { secrets[name] }
    public func replaceGatewaySecretValue(name: String, expected: Data, with value: Data) -> Bool {
        guard secrets[name]?.value == expected else { return false }
        secrets[name]?.value = value
        return true
    }

    // MARK: signing keys

    public func addSigningKey(_ record: SigningKeyRecord) throws {
        guard keys[record.id] == nil else { throw StorageError(.alreadyExists, "a signing key \(record.id) exists") }
        if record.state == .next, keys.values.contains(where: { $0.use == record.use && $0.algorithm == record.algorithm && $0.state == .next }) {
            throw StorageError(.alreadyExists, "a next \(record.use) \(record.algorithm) key exists")
        }
        keys[record.id] = record
    }
    public func signingKeys(use: String) -> [SigningKeyRecord] {
        keys.values.filter { $0.use == use }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
    public func updateSigningKey(id: String, _ updater: @escaping @Sendable (SigningKeyRecord) throws -> SigningKeyRecord) throws -> SigningKeyRecord {
        guard let current = keys[id] else { throw StorageError(.notFound, "no signing key \(id)") }
        var next = try updater(current)
        guard next.id == id, next.privateKeyPEM == current.privateKeyPEM || SigningKeyRecord.isSealing(from: current.privateKeyPEM, to: next.privateKeyPEM) else {
            throw StorageError(.conflict, "an update cannot change a signing key's id or key material")
        }
        next.version = current.version + 1
        next.use = current.use
        next.algorithm = current.algorithm
        next.createdAt = current.createdAt
        keys[id] = next
        return next
    }

    // MARK: housekeeping

    public func garbageCollect(now: Date, auditRetention: TimeInterval?) -> GarbageCollectionResult {
        var result = GarbageCollectionResult()
        func prune<V>(_ map: inout [String: V], _ expired: (V) -> Bool) -> Int {
            let before = map.count
            map = map.filter { !expired($0.value) }
            return before - map.count
        }
        result.pendingLogins = prune(&pending) { $0.keptUntil <= now }
        result.replayEntries = prune(&replay) { $0 <= now }
        if let auditRetention, let newest = auditLog.last {
            let before = auditLog.count
            auditLog.removeAll { $0.time < now - auditRetention && $0.sequence < newest.sequence }
            result.auditRecords = before - auditLog.count
        }
        result.sessions = prune(&sessions) { $0.expiresAt <= now }
        result.frontEndRecords = prune(&samlRequests) { $0.expiresAt <= now } + prune(&authorizations) { $0.expiresAt <= now }
            + prune(&nameIDs) { $0.expiresAt <= now } + prune(&logouts) { $0.expiresAt <= now }
        result.signingKeys = prune(&keys) { $0.state == .retired && ($0.removeAfter.map { $0 <= now } ?? false) }
        let expiredGrants = Set(grants.values.filter { $0.expiresAt <= now }.map(\.id))
        result.grants = prune(&grantTokens) { $0.expiresAt <= now || expiredGrants.contains($0.grantID) }
        result.grants += prune(&grants) { $0.expiresAt <= now }
        result.grants += prune(&sids) { $0.expiresAt <= now }
        return result
    }
}
