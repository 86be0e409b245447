import Foundation
import GatewayStorage
import GRDB

// Sessions, registrations and signing keys on SQLite.
extension SQLiteGatewayStorage {
    // MARK: single-sign-on sessions

    public func createSession(_ r: SessionRecord) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sso_session WHERE id = ?", arguments: [r.id]) == true {
                throw StorageError(.alreadyExists, "a session with id \(r.id) exists")
            }
            let values: [(any DatabaseValueConvertible)?] = [r.id, r.certificateFingerprint, r.level, r.authenticatedAt.storageMilliseconds,
                                                             r.expiresAt.storageMilliseconds, Self.join(r.participants), r.version]
            try db.cachedStatement(sql: Self.insertSessionSQL).execute(arguments: StatementArguments(values + Self.citizenValues(r.citizen)))
        }
    }

    public func session(id: String) async throws -> SessionRecord? {
        try await readSingleStatement { db in try Row.fetchOne(db.cachedStatement(sql: Self.selectSessionSQL), arguments: [id]).flatMap(Self.session) }
    }

    public func updateSession(id: String, _ updater: @escaping @Sendable (SessionRecord) throws -> SessionRecord) async throws -> SessionRecord {
        try await write { db in
            guard let current = try Row.fetchOne(db.cachedStatement(sql: Self.selectSessionSQL), arguments: [id]).flatMap(Self.session) else {
                throw StorageError(.notFound, "no session with id \(id)")
            }
            var next = try updater(current)
            guard next.id == id, next.certificateFingerprint == current.certificateFingerprint else {
                throw StorageError(.conflict, "an update cannot change a session's id or card")
            }
            next.version = current.version + 1
            let values: [(any DatabaseValueConvertible)?] = [next.level, next.authenticatedAt.storageMilliseconds, next.expiresAt.storageMilliseconds,
                                                             Self.join(next.participants), next.version]
            try db.cachedStatement(sql: Self.updateSessionSQL).execute(arguments: StatementArguments(values + Self.citizenValues(next.citizen) + [id, current.version]))
            if db.changesCount == 0 { throw StorageError(.conflict, "session \(id) changed concurrently") }
            return next
        }
    }

    public func deleteSession(id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM sso_session WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StorageError(.notFound, "no session with id \(id)") }
        }
    }

    /// A session's columns in the order ``session(_:)`` reads them.
    static let sessionColumns = ["id", "certificate_fingerprint", "level", "authenticated_at", "expires_at", "participants", "version"]
        + StorageMigrations.citizenColumns
    static let insertSessionSQL = SQLText.insert(into: "sso_session", sessionColumns)
    static let selectSessionSQL = SQLText.select(sessionColumns, from: "sso_session", where: "id = ?")
    static let updateSessionSQL = "UPDATE sso_session SET \(SQLText.assignments(Array(sessionColumns.dropFirst(2)))) WHERE id = ? AND version = ?"

    static func session(_ row: Row) -> SessionRecord? {
        // Every session has its citizen (a session whose old JSON could not be read was not carried over by step 8).
        guard let citizen = citizen(row, at: 7) else { return nil }
        let participants: String = row[5]
        return SessionRecord(id: row[0], certificateFingerprint: row[1], level: row[2], citizen: citizen, authenticatedAt: Date(storageMilliseconds: row[3]),
                             expiresAt: Date(storageMilliseconds: row[4]), participants: participants.isEmpty ? [] : participants.split(separator: "\n").map(String.init),
                             version: row[6])
    }

    // MARK: registrations

    public func addRegistration(_ r: RegistrationRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO registration (kind, id, json, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [r.kind, r.id, r.json, r.createdAt.storageMilliseconds, r.updatedAt.storageMilliseconds, r.version])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a \(r.kind) registration \(r.id) exists") }
        }
    }

    public func registrations(kind: String) async throws -> [RegistrationRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM registration WHERE kind = ? ORDER BY created_at, id", arguments: [kind]).map(Self.registration)
        }
    }

    public func registration(kind: String, id: String) async throws -> RegistrationRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM registration WHERE kind = ? AND id = ?", arguments: [kind, id]).map(Self.registration)
        }
    }

    public func updateRegistration(kind: String, id: String, _ updater: @escaping @Sendable (RegistrationRecord) throws -> RegistrationRecord) async throws -> RegistrationRecord {
        try await write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT * FROM registration WHERE kind = ? AND id = ?", arguments: [kind, id])
                .map(Self.registration) else { throw StorageError(.notFound, "no \(kind) registration \(id)") }
            var next = try updater(current)
            guard next.id == id, next.kind == kind else { throw StorageError(.conflict, "an update cannot change a registration's kind or id") }
            next.version = current.version + 1
            try db.execute(sql: "UPDATE registration SET json = ?, updated_at = ?, version = ? WHERE kind = ? AND id = ? AND version = ?",
                           arguments: [next.json, next.updatedAt.storageMilliseconds, next.version, kind, id, current.version])
            if db.changesCount == 0 { throw StorageError(.conflict, "registration \(id) changed concurrently") }
            return next
        }
    }

    public func removeRegistration(kind: String, id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM registration WHERE kind = ? AND id = ?", arguments: [kind, id])
            if db.changesCount == 0 { throw StorageError(.notFound, "no \(kind) registration \(id)") }
        }
    }

    static func registration(_ row: Row) -> RegistrationRecord {
        RegistrationRecord(kind: row["kind"], id: row["id"], json: row["json"], createdAt: Date(storageMilliseconds: row["created_at"]),
                           updatedAt: Date(storageMilliseconds: row["updated_at"]), version: row["version"])
    }

    // MARK: signing keys

    public func addSigningKey(_ r: SigningKeyRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO signing_key (id, use, algorithm, private_key, certificate, state, created_at, remove_after, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [r.id, r.use, r.algorithm, r.privateKeyPEM, r.certificatePEM, r.state.rawValue, r.createdAt.storageMilliseconds,
                                 r.removeAfter?.storageMilliseconds, r.version])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a signing key \(r.id) exists") }
        }
    }

    public func signingKeys(use: String) async throws -> [SigningKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_key WHERE use = ? ORDER BY created_at, id", arguments: [use]).map(Self.signingKey)
        }
    }

    public func updateSigningKey(id: String, _ updater: @escaping @Sendable (SigningKeyRecord) throws -> SigningKeyRecord) async throws -> SigningKeyRecord {
        try await write { db in
            guard let current = try Row.fetchOne(db, sql: "SELECT * FROM signing_key WHERE id = ?", arguments: [id]).map(Self.signingKey) else {
                throw StorageError(.notFound, "no signing key \(id)")
            }
            var next = try updater(current)
            guard next.id == id, next.privateKeyPEM == current.privateKeyPEM || SigningKeyRecord.isSealing(from: current.privateKeyPEM, to: next.privateKeyPEM) else {
                throw StorageError(.conflict, "an update cannot change a signing key's id or key material")
            }
            next.version = current.version + 1
            try db.execute(sql: "UPDATE signing_key SET state = ?, certificate = ?, remove_after = ?, version = ?, private_key = ? WHERE id = ? AND version = ?",
                           arguments: [next.state.rawValue, next.certificatePEM, next.removeAfter?.storageMilliseconds, next.version, next.privateKeyPEM,
                                       id, current.version])
            if db.changesCount == 0 { throw StorageError(.conflict, "signing key \(id) changed concurrently") }
            return next
        }
    }

    static func signingKey(_ row: Row) -> SigningKeyRecord {
        SigningKeyRecord(id: row["id"], use: row["use"], algorithm: row["algorithm"], privateKeyPEM: row["private_key"], certificatePEM: row["certificate"],
                         state: SigningKeyRecord.State(rawValue: row["state"]) ?? .retired, createdAt: Date(storageMilliseconds: row["created_at"]),
                         removeAfter: (row["remove_after"] as Int64?).map(Date.init(storageMilliseconds:)), version: row["version"])
    }
}

// The gateway's secrets on SQLite.
extension SQLiteGatewayStorage {
    public func createGatewaySecret(_ r: GatewaySecretRecord) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO gateway_secret (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [r.name, r.value, r.createdAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a gateway secret \(r.name) exists") }
        }
    }

    public func gatewaySecret(name: String) async throws -> GatewaySecretRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM gateway_secret WHERE name = ?", arguments: [name]).map { row in
                GatewaySecretRecord(name: row["name"], value: row["value"], createdAt: Date(storageMilliseconds: row["created_at"]))
            }
        }
    }

    public func replaceGatewaySecretValue(name: String, expected: Data, with value: Data) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE gateway_secret SET value = ? WHERE name = ? AND value = ?", arguments: [value, name, expected])
            return db.changesCount == 1
        }
    }
}
