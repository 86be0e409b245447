import Foundation
import GatewayStorage
import Logging
import PostgresNIO

// Trusted CAs, pending logins, the replay cache, the audit chain, sessions, registrations, keys and secrets.
extension PostgresGatewayStorage {
    static let quiet = Logger(label: "cnsgw.storage.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The compare-and-swap every update shares: the row is read `FOR UPDATE` (a concurrent updater waits for this
    /// transaction and then reads its result), `updater` makes the next record, `check` refuses a change of what must
    /// not change, and the row is written with `version + 1` where it still has the version read.
    func update<R: StoredRow>(_ what: String, key keyColumns: [String], _ keyValues: [SQLValue], fixed: Set<String>, versioned: Bool,
                              _ updater: @escaping @Sendable (R) throws -> R, check: @escaping @Sendable (R, R) -> Bool,
                              bump: @escaping @Sendable (inout R, R) -> Void) async throws -> R {
        let condition: @Sendable (Int) -> String = { first in
            keyColumns.enumerated().map { "\($1) = $\(first + $0)" }.joined(separator: " AND ")
        }
        return try await write("update \(what)") { conn in
            guard let current = try await conn.records(R.self, where: condition(1), keyValues, suffix: " FOR UPDATE").first else {
                throw StorageError(.notFound, "no \(what)")
            }
            var next = try updater(current)
            guard check(current, next) else { throw StorageError(.conflict, "an update cannot change the key or the fixed fields of \(what)") }
            bump(&next, current)
            let values = PostgresSQL.changingValues(next, keeping: fixed.union(keyColumns))
            let versionIndex = values.count + keyValues.count + 1
            let sql = PostgresSQL.update(R.self, keeping: fixed.union(keyColumns), where: { first in
                condition(first) + (versioned ? " AND version = $\(versionIndex)" : "")
            }) + " RETURNING 1"
            let versionValue: [SQLValue] = versioned ? [current.values[R.columns.firstIndex(of: "version")!]] : []
            guard try await conn.count(sql, values + keyValues + versionValue) == 1 else { throw StorageError(.conflict, "\(what) changed concurrently") }
            return next
        }
    }

    // MARK: trusted CAs

    public func addTrustedCA(_ r: TrustedCARecord) async throws {
        try await autocommit("add trusted CA") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a trusted CA with id \(r.id) exists") }
        }
    }

    public func trustedCAs() async throws -> [TrustedCARecord] {
        try await autocommit("trusted CAs") { try await $0.records(TrustedCARecord.self, where: "TRUE", [], suffix: " ORDER BY added_at, id") }
    }

    public func trustedCA(id: String) async throws -> TrustedCARecord? {
        try await autocommit("trusted CA") { try await $0.records(TrustedCARecord.self, where: "id = $1", [.text(id)]).first }
    }

    public func updateTrustedCA(id: String, _ updater: @escaping @Sendable (TrustedCARecord) throws -> TrustedCARecord) async throws -> TrustedCARecord {
        try await update("trusted CA \(id)", key: ["id"], [.text(id)], fixed: ["id", "added_at"], versioned: false, updater,
                         check: { $0.id == $1.id }, bump: { _, _ in })
    }

    public func removeTrustedCA(id: String) async throws {
        try await autocommit("remove trusted CA") { conn in
            guard try await conn.count("DELETE FROM trusted_ca WHERE id = $1 RETURNING 1", [.text(id)]) == 1 else {
                throw StorageError(.notFound, "no trusted CA with id \(id)")
            }
        }
    }

    public func applyTrustChanges(adding: [TrustedCARecord], removing: [String]) async throws {
        try await write("trust changes") { conn in
            // One transaction: a throw rolls every step back.
            for id in removing where try await conn.count("DELETE FROM trusted_ca WHERE id = $1 RETURNING 1", [.text(id)]) == 0 {
                throw StorageError(.notFound, "no trusted CA with id \(id)")
            }
            for r in adding where try await !conn.insertIfAbsent(r) {
                throw StorageError(.alreadyExists, "a trusted CA with id \(r.id) exists")
            }
        }
    }

    // MARK: pending logins

    public func createPendingLogin(_ r: PendingLoginRecord) async throws {
        try await autocommit("create pending login") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a pending login with id \(r.id) exists") }
        }
    }

    public func pendingLogin(id: String) async throws -> PendingLoginRecord? {
        try await autocommit("pending login") { try await $0.records(PendingLoginRecord.self, where: "id = $1", [.text(id)]).first }
    }

    public func updatePendingLogin(id: String, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await update("pending login \(id)", key: ["id"], [.text(id)], fixed: ["id", "created_at", "expires_at"], versioned: true, updater,
                         check: { $0.id == $1.id }, bump: { next, current in
                             next.version = current.version + 1
                             next.createdAt = current.createdAt
                             next.expiresAt = current.expiresAt
                         })
    }

    public func updatePendingLogin(from read: PendingLoginRecord, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        // One statement instead of a transaction of four (BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT) while `read` is
        // the stored version; `updater(read)` throwing may come from `read` being out of date, so the full path decides.
        if let next = try? updater(read).stored(over: read) {
            let fixed: Set<String> = ["id", "created_at", "expires_at"]
            let values = PostgresSQL.changingValues(next, keeping: fixed)
            let sql = PostgresSQL.update(PendingLoginRecord.self, keeping: fixed, where: { "id = $\($0) AND version = $\($0 + 1)" }) + " RETURNING 1"
            let replaced = try await autocommit("update pending login \(read.id)") { [next] conn in
                try await conn.count(sql, values + [.text(read.id), .integer(Int64(read.version))]) == 1
            }
            if replaced { return next }
        }
        return try await updatePendingLogin(id: read.id, updater)
    }

    public func deletePendingLogin(id: String) async throws {
        try await autocommit("delete pending login") { conn in
            guard try await conn.count("DELETE FROM pending_login WHERE id = $1 RETURNING 1", [.text(id)]) == 1 else {
                throw StorageError(.notFound, "no pending login with id \(id)")
            }
        }
    }

    // MARK: replay cache

    public func rememberOnce(namespace: String, key: String, now: Date, expiresAt: Date) async throws -> Bool {
        // One statement: a new key is inserted, an expired one taken over, a live one left (no row returned: a replay).
        try await autocommit("replay cache") { conn in
            try await conn.count("""
                INSERT INTO replay_cache (namespace, key, expires_at) VALUES ($1, $2, $3)
                ON CONFLICT (namespace, key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_cache.expires_at <= $4 RETURNING 1
                """, [.text(namespace), .text(key), .instant(expiresAt), .instant(now)]) == 1
        }
    }

    // MARK: audit

    public func appendAudit(_ r: AuditRecord) async throws {
        _ = try await appendAudit { head in
            guard r.sequence == (head?.sequence ?? 0) + 1, r.previousHash == (head?.hash ?? "") else {
                throw StorageError(.conflict, "the audit log moved on (last sequence \(head?.sequence ?? 0)); rebuild the record and retry")
            }
            return [r]
        }
    }

    public func appendAudit(building build: @escaping @Sendable (AuditRecord?) throws -> [AuditRecord]) async throws -> [AuditRecord] {
        try await write("audit append") { conn in
            // Writers of every instance queue on this lock until commit: one chain, no fork, no gap.
            try await conn.run("SELECT pg_advisory_xact_lock($1)", [.integer(Lock.audit.rawValue)])
            var head = try await conn.records(AuditRecord.self, where: "TRUE", [], suffix: " ORDER BY sequence DESC LIMIT 1").first
            let records = try build(head)
            for r in records {
                guard r.sequence == (head?.sequence ?? 0) + 1, r.previousHash == (head?.hash ?? "") else {
                    throw StorageError(.conflict, "record \(r.sequence) does not follow the head of the audit log")
                }
                head = r
            }
            guard !records.isEmpty else { return records }
            let width = AuditRecord.columns.count
            let rows = (0..<records.count).map { "(\(PostgresSQL.placeholders(width, from: $0 * width + 1)))" }.joined(separator: ", ")
            try await conn.run("INSERT INTO audit_log (\(AuditRecord.columns.joined(separator: ", "))) VALUES \(rows)", records.flatMap(\.values))
            return records
        }
    }

    public func lastAuditRecord() async throws -> AuditRecord? {
        try await autocommit("audit head") { try await $0.records(AuditRecord.self, where: "TRUE", [], suffix: " ORDER BY sequence DESC LIMIT 1").first }
    }

    public func auditRecords(since: Date?, limit: Int?) async throws -> [AuditRecord] {
        try await autocommit("audit records") { conn in
            try await conn.records(AuditRecord.self, where: "time >= $1", [.integer(since?.storageMilliseconds ?? Int64.min)],
                                   suffix: " ORDER BY sequence" + (limit.map { " LIMIT \(max(0, $0))" } ?? ""))
        }
    }

    // MARK: sessions

    public func createSession(_ r: SessionRecord) async throws {
        try await autocommit("create session") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a session with id \(r.id) exists") }
        }
    }

    public func session(id: String) async throws -> SessionRecord? {
        try await autocommit("session") { try await $0.records(SessionRecord.self, where: "id = $1", [.text(id)]).first }
    }

    public func updateSession(id: String, _ updater: @escaping @Sendable (SessionRecord) throws -> SessionRecord) async throws -> SessionRecord {
        try await update("session \(id)", key: ["id"], [.text(id)], fixed: ["id", "certificate_fingerprint"], versioned: true, updater,
                         check: { $0.id == $1.id && $0.certificateFingerprint == $1.certificateFingerprint }, bump: { $0.version = $1.version + 1 })
    }

    public func deleteSession(id: String) async throws {
        try await autocommit("delete session") { conn in
            guard try await conn.count("DELETE FROM sso_session WHERE id = $1 RETURNING 1", [.text(id)]) == 1 else {
                throw StorageError(.notFound, "no session with id \(id)")
            }
        }
    }

    // MARK: registrations

    public func addRegistration(_ r: RegistrationRecord) async throws {
        try await autocommit("add registration") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a \(r.kind) registration \(r.id) exists") }
        }
    }

    public func registrations(kind: String) async throws -> [RegistrationRecord] {
        try await autocommit("registrations") { try await $0.records(RegistrationRecord.self, where: "kind = $1", [.text(kind)], suffix: " ORDER BY created_at, id") }
    }

    public func registration(kind: String, id: String) async throws -> RegistrationRecord? {
        try await autocommit("registration") { try await $0.records(RegistrationRecord.self, where: "kind = $1 AND id = $2", [.text(kind), .text(id)]).first }
    }

    public func updateRegistration(kind: String, id: String, _ updater: @escaping @Sendable (RegistrationRecord) throws -> RegistrationRecord) async throws -> RegistrationRecord {
        try await update("\(kind) registration \(id)", key: ["kind", "id"], [.text(kind), .text(id)], fixed: ["kind", "id", "created_at"],
                         versioned: true, updater, check: { $0.id == $1.id && $0.kind == $1.kind }, bump: { $0.version = $1.version + 1 })
    }

    public func removeRegistration(kind: String, id: String) async throws {
        try await autocommit("remove registration") { conn in
            guard try await conn.count("DELETE FROM registration WHERE kind = $1 AND id = $2 RETURNING 1", [.text(kind), .text(id)]) == 1 else {
                throw StorageError(.notFound, "no \(kind) registration \(id)")
            }
        }
    }

    // MARK: signing keys

    public func addSigningKey(_ r: SigningKeyRecord) async throws {
        try await autocommit("add signing key") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a signing key \(r.id) exists") }
        }
    }

    public func signingKeys(use: String) async throws -> [SigningKeyRecord] {
        try await autocommit("signing keys") { try await $0.records(SigningKeyRecord.self, where: "use = $1", [.text(use)], suffix: " ORDER BY created_at, id") }
    }

    public func updateSigningKey(id: String, _ updater: @escaping @Sendable (SigningKeyRecord) throws -> SigningKeyRecord) async throws -> SigningKeyRecord {
        try await update("signing key \(id)", key: ["id"], [.text(id)], fixed: ["id", "use", "algorithm", "created_at"], versioned: true, updater,
                         check: { old, new in
                             new.id == old.id && (new.privateKeyPEM == old.privateKeyPEM || SigningKeyRecord.isSealing(from: old.privateKeyPEM, to: new.privateKeyPEM))
                         }, bump: { $0.version = $1.version + 1 })
    }

    // MARK: gateway secrets

    public func createGatewaySecret(_ r: GatewaySecretRecord) async throws {
        try await autocommit("create gateway secret") { conn in
            guard try await conn.insertIfAbsent(r) else { throw StorageError(.alreadyExists, "a gateway secret \(r.name) exists") }
        }
    }

    public func gatewaySecret(name: String) async throws -> GatewaySecretRecord? {
        try await autocommit("gateway secret") { try await $0.records(GatewaySecretRecord.self, where: "name = $1", [.text(name)]).first }
    }

    public func replaceGatewaySecretValue(name: String, expected: Data, with value: Data) async throws -> Bool {
        try await autocommit("replace gateway secret") { conn in
            try await conn.count("UPDATE gateway_secret SET value = $1 WHERE name = $2 AND value = $3 RETURNING 1", [.blob(value), .text(name), .blob(expected)]) == 1
        }
    }
}
