import Foundation
import GatewayStorage
import GRDB

/// ``GatewayStorage`` on SQLite (system libsqlite3 through GRDB), in WAL mode: one gateway instance.
public final class SQLiteGatewayStorage: GatewayStorage {
    // Sendable: GRDB's DatabasePool serialises writers and is safe to share.
    private let pool: DatabasePool
    /// Every write goes through it: concurrent writes share a transaction (``SQLiteGroupCommit``).
    private let writes: SQLiteGroupCommit
    public let path: String

    /// Opens (or creates) the database at `path` and applies pending migrations. A file that is not a cnsgw
    /// database is refused with `.corrupted` and left untouched.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in try Self.migrate(db) }
            writes = SQLiteGroupCommit(pool: pool)
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            throw StorageError(.corrupted, "\(path) is not a readable cnsgw database (\(error.message ?? "\(error.resultCode)")); nothing was changed: move it away or restore a backup")
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.unavailable, "cannot open \(path): \(error)")
        }
    }

    static func migrate(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY)")
        let applied = Set(try Int.fetchAll(db, sql: "SELECT id FROM schema_migrations"))
        if let newest = applied.max(), newest > (StorageMigrations.steps.map(\.id).max() ?? 0) {
            throw StorageError(.corrupted, "the database schema (\(newest)) is newer than this cnsgw; upgrade cnsgw")
        }
        for step in StorageMigrations.steps where !applied.contains(step.id) {
            for sql in step.sqlite { try db.execute(sql: sql) }
            if step.id == 4 { try LegacyOAuthRows.carryForward(db) }
            if step.id == 5 { try LegacyFrontEndRows.carryForward(db) }
            if step.id == 8 { try LegacyCardOutcomes.carryForward(db) }
            try db.execute(sql: "INSERT INTO schema_migrations (id) VALUES (?)", arguments: [step.id])
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        // Database errors become StorageError; anything an updater closure throws reaches the caller as it is.
        do { return try await writes.write(body) } catch let error as DatabaseError {
            throw StorageError(.unavailable, "SQLite write failed: \(error)")
        }
    }

    /// Reads run on the calling thread: in WAL mode a read never waits for a writer, and a point lookup takes tens of
    /// microseconds, less than handing it to a reader queue and back (two thread switches; measured on the card step
    /// by bench/card-logins.sh). Writes stay asynchronous, since a commit may wait for another writer or the disk.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try readOnCallingThread(body) } catch let error as DatabaseError {
            throw StorageError(.unavailable, "SQLite read failed: \(error)")
        }
    }

    /// GRDB's synchronous read (a synchronous context selects it over the asynchronous overload).
    private func readOnCallingThread<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }

    /// A read of exactly one SQL statement (a point lookup by key), on the calling thread and outside a transaction.
    /// One statement sees one consistent snapshot on its own in SQLite, so the `BEGIN`/`COMMIT` that ``read(_:)``
    /// wraps around its body for multi-statement consistency buys nothing here; on the card step it was most of the
    /// pending login's lookup (bench/card-logins.sh, `perf`). Never use it for a body that runs two statements.
    func readSingleStatement<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try readSingleStatementOnCallingThread(body) } catch let error as DatabaseError {
            throw StorageError(.unavailable, "SQLite read failed: \(error)")
        }
    }

    private func readSingleStatementOnCallingThread<T>(_ body: (Database) throws -> T) throws -> T { try pool.unsafeRead(body) }

    // MARK: trusted CAs

    public func addTrustedCA(_ r: TrustedCARecord) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM trusted_ca WHERE id = ?", arguments: [r.id]) == true {
                throw StorageError(.alreadyExists, "a trusted CA with id \(r.id) exists")
            }
            try db.execute(sql: "INSERT INTO trusted_ca (id, name, certificate, policy, added_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [r.id, r.name, r.certificateDER, r.policyJSON, r.addedAt.storageMilliseconds])
        }
    }

    public func trustedCAs() async throws -> [TrustedCARecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM trusted_ca ORDER BY added_at, id").map(Self.trustedCA) }
    }

    public func trustedCA(id: String) async throws -> TrustedCARecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM trusted_ca WHERE id = ?", arguments: [id]).map(Self.trustedCA) }
    }

    public func updateTrustedCA(id: String, _ updater: @escaping @Sendable (TrustedCARecord) throws -> TrustedCARecord) async throws -> TrustedCARecord {
        try await write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT * FROM trusted_ca WHERE id = ?", arguments: [id]).map(Self.trustedCA) else {
                throw StorageError(.notFound, "no trusted CA with id \(id)")
            }
            let next = try updater(current)
            guard next.id == id else { throw StorageError(.conflict, "an update cannot change a trusted CA's id") }
            try db.execute(sql: "UPDATE trusted_ca SET name = ?, certificate = ?, policy = ? WHERE id = ?",
                           arguments: [next.name, next.certificateDER, next.policyJSON, id])
            return next
        }
    }

    public func removeTrustedCA(id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM trusted_ca WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StorageError(.notFound, "no trusted CA with id \(id)") }
        }
    }

    public func applyTrustChanges(adding: [TrustedCARecord], removing: [String]) async throws {
        try await write { db in
            // GRDB's write runs in one transaction: a throw rolls every step back.
            for id in removing {
                try db.execute(sql: "DELETE FROM trusted_ca WHERE id = ?", arguments: [id])
                if db.changesCount == 0 { throw StorageError(.notFound, "no trusted CA with id \(id)") }
            }
            for r in adding {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM trusted_ca WHERE id = ?", arguments: [r.id]) == true {
                    throw StorageError(.alreadyExists, "a trusted CA with id \(r.id) exists")
                }
                try db.execute(sql: "INSERT INTO trusted_ca (id, name, certificate, policy, added_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [r.id, r.name, r.certificateDER, r.policyJSON, r.addedAt.storageMilliseconds])
            }
        }
    }

    static func trustedCA(_ row: Row) -> TrustedCARecord {
        TrustedCARecord(id: row["id"], name: row["name"], certificateDER: row["certificate"], policyJSON: row["policy"],
                        addedAt: Date(storageMilliseconds: row["added_at"]))
    }

    // MARK: pending logins

    public func createPendingLogin(_ r: PendingLoginRecord) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM pending_login WHERE id = ?", arguments: [r.id]) == true {
                throw StorageError(.alreadyExists, "a pending login with id \(r.id) exists")
            }
            try Self.insert(r, db)
        }
    }

    public func pendingLogin(id: String) async throws -> PendingLoginRecord? {
        try await readSingleStatement { db in try Row.fetchOne(db.cachedStatement(sql: Self.selectPendingLoginSQL), arguments: [id]).map(Self.pendingLogin) }
    }

    public func updatePendingLogin(id: String, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await write { db in try Self.readAndUpdatePendingLogin(id: id, db, updater) }
    }

    public func updatePendingLogin(from read: PendingLoginRecord, _ updater: @escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord {
        try await write { db in
            // `updater(read)` throwing may come from `read` being out of date: the path that reads decides then.
            if let next = try? updater(read).stored(over: read), try Self.storePendingLogin(next, replacing: read, db) { return next }
            return try Self.readAndUpdatePendingLogin(id: read.id, db, updater)
        }
    }

    static func readAndUpdatePendingLogin(id: String, _ db: Database, _ updater: (PendingLoginRecord) throws -> PendingLoginRecord) throws -> PendingLoginRecord {
        guard let current = try Row.fetchOne(db.cachedStatement(sql: selectPendingLoginSQL), arguments: [id]).map(pendingLogin) else {
            throw StorageError(.notFound, "no pending login with id \(id)")
        }
        let next = try updater(current).stored(over: current)
        if try !storePendingLogin(next, replacing: current, db) { throw StorageError(.conflict, "pending login \(id) changed concurrently") }
        return next
    }

    /// Writes `next` over the stored record if that is still at `current.version`; false when it is not.
    static func storePendingLogin(_ next: PendingLoginRecord, replacing current: PendingLoginRecord, _ db: Database) throws -> Bool {
        let values: [(any DatabaseValueConvertible)?] = [next.requester, next.requestedLevel, next.comparison, join(next.attributes), next.forceFresh,
                                                         next.returnPath, next.state.rawValue, next.version,
                                                         next.browserBinding, next.consentToken, next.continuationHash]
        try db.cachedStatement(sql: updatePendingLoginSQL).execute(arguments: StatementArguments(values + cardValues(next.card) + [current.id, current.version]))
        return db.changesCount == 1
    }

    public func deletePendingLogin(id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM pending_login WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StorageError(.notFound, "no pending login with id \(id)") }
        }
    }

    static func insert(_ r: PendingLoginRecord, _ db: Database) throws {
        let values: [(any DatabaseValueConvertible)?] = [r.id, r.requester, r.requestedLevel, r.comparison, join(r.attributes), r.forceFresh, r.returnPath,
                                                         r.state.rawValue, r.createdAt.storageMilliseconds, r.expiresAt.storageMilliseconds, r.version,
                                                         r.browserBinding, r.consentToken, r.continuationHash]
        try db.cachedStatement(sql: insertPendingLoginSQL).execute(arguments: StatementArguments(values + cardValues(r.card)))
    }

    /// A pending login's columns in the order ``pendingLogin(_:)`` reads them.
    static let pendingLoginColumns = ["id", "requester", "requested_level", "comparison", "attributes", "force_fresh", "return_path", "state", "created_at",
                                      "expires_at", "version", "browser_binding", "consent_token", "continuation_hash"] + cardColumns
    static let selectPendingLoginSQL = SQLText.select(pendingLoginColumns, from: "pending_login", where: "id = ?")
    static let insertPendingLoginSQL = SQLText.insert(into: "pending_login", pendingLoginColumns)
    /// Every column but `id`, `created_at` and `expires_at`, which never change. Leaving `expires_at` out of the SET list
    /// matters: SQLite rewrites an index entry for every indexed column named there, same value or not, so naming it
    /// wrote the expiry index's page to the WAL on every update, twice the bytes of the row alone.
    static let updatePendingLoginSQL = """
        UPDATE pending_login SET \(SQLText.assignments(pendingLoginColumns.filter { !["id", "created_at", "expires_at"].contains($0) })) WHERE id = ? AND version = ?
        """

    static func pendingLogin(_ row: Row) -> PendingLoginRecord {
        let attributes: String = row[4]
        return PendingLoginRecord(
            id: row[0], requester: row[1], requestedLevel: row[2], comparison: row[3],
            attributes: attributes.isEmpty ? [] : attributes.split(separator: "\n").map(String.init), forceFresh: row[5],
            returnPath: row[6], state: PendingLoginRecord.State(rawValue: row[7]) ?? .failed, card: card(row, at: 14),
            createdAt: Date(storageMilliseconds: row[8]), expiresAt: Date(storageMilliseconds: row[9]), version: row[10],
            browserBinding: row[11], consentToken: row[12], continuationHash: row[13])
    }

    static func join(_ attributes: [String]) -> String { attributes.joined(separator: "\n") }

    // MARK: replay cache

    public func rememberOnce(namespace: String, key: String, now: Date, expiresAt: Date) async throws -> Bool {
        try await write { db in
            try db.cachedStatement(sql: "DELETE FROM replay_cache WHERE namespace = ? AND key = ? AND expires_at <= ?")
                .execute(arguments: [namespace, key, now.storageMilliseconds])
            try db.cachedStatement(sql: "INSERT INTO replay_cache (namespace, key, expires_at) VALUES (?, ?, ?) ON CONFLICT (namespace, key) DO NOTHING")
                .execute(arguments: [namespace, key, expiresAt.storageMilliseconds])
            return db.changesCount == 1
        }
    }

    // MARK: audit

    public func appendAudit(_ r: AuditRecord) async throws {
        try await write { db in
            let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1")
            let lastSequence: Int64 = last?["sequence"] ?? 0
            let lastHash: String = last?["hash"] ?? ""
            guard r.sequence == lastSequence + 1, r.previousHash == lastHash else {
                throw StorageError(.conflict, "the audit log moved on (last sequence \(lastSequence)); rebuild the record and retry")
            }
            try db.execute(sql: "INSERT INTO audit_log (sequence, time, kind, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [r.sequence, r.time.storageMilliseconds, r.kind, r.payload, r.previousHash, r.hash])
        }
    }

    public func appendAudit(building build: @escaping @Sendable (AuditRecord?) throws -> [AuditRecord]) async throws -> [AuditRecord] {
        try await write { db in
            // Cached statements: this runs for every login.
            let headStatement = try db.cachedStatement(sql: "SELECT \(Self.auditColumns) FROM audit_log ORDER BY sequence DESC LIMIT 1")
            let insert = try db.cachedStatement(sql: "INSERT INTO audit_log (sequence, time, kind, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)")
            var head = try Row.fetchOne(headStatement).map(Self.audit)
            let records = try build(head)
            for r in records {
                guard r.sequence == (head?.sequence ?? 0) + 1, r.previousHash == (head?.hash ?? "") else {
                    throw StorageError(.conflict, "record \(r.sequence) does not follow the head of the audit log")
                }
                try insert.execute(arguments: [r.sequence, r.time.storageMilliseconds, r.kind, r.payload, r.previousHash, r.hash])
                head = r
            }
            return records
        }
    }

    public func lastAuditRecord() async throws -> AuditRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT \(Self.auditColumns) FROM audit_log ORDER BY sequence DESC LIMIT 1").map(Self.audit) }
    }

    public func auditRecords(since: Date?, limit: Int?) async throws -> [AuditRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.auditColumns) FROM audit_log WHERE time >= ? ORDER BY sequence LIMIT ?",
                             arguments: [since?.storageMilliseconds ?? Int64.min, limit ?? -1]).map(Self.audit)
        }
    }

    static let auditColumns = "sequence, time, kind, payload, previous_hash, hash"

    /// A row of ``auditColumns``, read by index.
    static func audit(_ row: Row) -> AuditRecord {
        AuditRecord(sequence: row[0], time: Date(storageMilliseconds: row[1]), kind: row[2], payload: row[3], previousHash: row[4], hash: row[5])
    }

    // MARK: housekeeping

    public func garbageCollect(now: Date, auditRetention: TimeInterval?) async throws -> GarbageCollectionResult {
        try await write { db in
            var result = GarbageCollectionResult()
            try db.execute(sql: "DELETE FROM pending_login WHERE expires_at <= ?",
                           arguments: [(now - PendingLoginRecord.keptAfterExpiry).storageMilliseconds])
            result.pendingLogins = db.changesCount
            try db.execute(sql: "DELETE FROM replay_cache WHERE expires_at <= ?", arguments: [now.storageMilliseconds])
            result.replayEntries = db.changesCount
            if let auditRetention {
                // Keep the newest record whatever its age, so the chain always has a head to append to.
                try db.execute(sql: "DELETE FROM audit_log WHERE time < ? AND sequence < (SELECT MAX(sequence) FROM audit_log)",
                               arguments: [now.addingTimeInterval(-auditRetention).storageMilliseconds])
                result.auditRecords = db.changesCount
            }
            try db.execute(sql: "DELETE FROM sso_session WHERE expires_at <= ?", arguments: [now.storageMilliseconds])
            result.sessions = db.changesCount
            result.frontEndRecords = try Self.collectFrontEnds(db, now: now)
            try db.execute(sql: "DELETE FROM signing_key WHERE state = 'retired' AND remove_after <= ?", arguments: [now.storageMilliseconds])
            result.signingKeys = db.changesCount
            result.grants = try Self.collectGrants(db, now: now)
            return result
        }
    }
}

