import Foundation
import GatewayStorage
import GRDB

// OAuth grants, their tokens and OIDC session identifiers on SQLite.
extension SQLiteGatewayStorage {
    public func createGrant(_ g: OAuthGrantRecord, code: OAuthTokenRecord) async throws {
        try await write { db in
            try db.cachedStatement(sql: Self.insertGrantSQL).execute(arguments: Self.grantArguments(g))
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a grant \(g.id) exists") }
            try Self.insertToken(code, db)
        }
    }

    public func storeGrantToken(_ token: OAuthTokenRecord) async throws {
        try await write { db in try Self.insertToken(token, db) }
    }

    public func redeemGrantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRedemption {
        try await write { db in
            let ms = now.storageMilliseconds
            // One statement spends the token only if it was unspent; a token found but not changed was spent before.
            try db.execute(sql: "UPDATE oauth_token SET spent_at = ? WHERE kind = ? AND id = ? AND expires_at > ? AND spent_at IS NULL",
                           arguments: [ms, kind.rawValue, id, ms])
            let spent = db.changesCount == 1
            guard let grantID = try String.fetchOne(db, sql: "SELECT grant_id FROM oauth_token WHERE kind = ? AND id = ? AND expires_at > ?",
                                                    arguments: [kind.rawValue, id, ms]) else { return .notFound }
            guard spent else { return .replayed(grantID: grantID) }
            let grant = try Row.fetchOne(db.cachedStatement(sql: Self.selectGrant + " AND expires_at > ? AND revoked_at IS NULL"),
                                         arguments: [grantID, ms]).map(Self.grant)
            return .redeemed(grantID: grantID, grant: grant)
        }
    }

    public func grant(id: String, now: Date) async throws -> OAuthGrantRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.selectGrant + " AND expires_at > ?"), arguments: [id, now.storageMilliseconds]).map(Self.grant)
        }
    }

    public func grantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM oauth_token WHERE kind = ? AND id = ? AND expires_at > ?",
                             arguments: [kind.rawValue, id, now.storageMilliseconds]).map { row in
                OAuthTokenRecord(kind: kind, id: row["id"], grantID: row["grant_id"], expiresAt: Date(storageMilliseconds: row["expires_at"]),
                                 spentAt: (row["spent_at"] as Int64?).map(Date.init(storageMilliseconds:)))
            }
        }
    }

    public func revokeGrant(id: String, now: Date) async throws -> Bool {
        try await write { db in
            let ms = now.storageMilliseconds
            try db.execute(sql: "UPDATE oauth_grant SET revoked_at = ? WHERE id = ? AND expires_at > ? AND revoked_at IS NULL", arguments: [ms, id, ms])
            return db.changesCount == 1
        }
    }

    public func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO oidc_session_identifier (sid, session_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [sid, sessionID, expiresAt.storageMilliseconds])
        }
    }

    public func sessionID(forSessionIdentifier sid: String, now: Date) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT session_id FROM oidc_session_identifier WHERE sid = ? AND expires_at > ?",
                                arguments: [sid, now.storageMilliseconds])
        }
    }

    /// Removes expired grants with their tokens, expired tokens and session identifiers.
    static func collectGrants(_ db: Database, now: Date) throws -> Int {
        let ms = now.storageMilliseconds
        try db.execute(sql: "DELETE FROM oauth_token WHERE expires_at <= ? OR grant_id IN (SELECT id FROM oauth_grant WHERE expires_at <= ?)", arguments: [ms, ms])
        var removed = db.changesCount
        try db.execute(sql: "DELETE FROM oauth_grant WHERE expires_at <= ?", arguments: [ms])
        removed += db.changesCount
        try db.execute(sql: "DELETE FROM oidc_session_identifier WHERE expires_at <= ?", arguments: [ms])
        return removed + db.changesCount
    }

    static func insertToken(_ t: OAuthTokenRecord, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO oauth_token (kind, id, grant_id, expires_at, spent_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [t.kind.rawValue, t.id, t.grantID, t.expiresAt.storageMilliseconds, t.spentAt?.storageMilliseconds])
        if db.changesCount == 0 { throw StorageError(.alreadyExists, "a \(t.kind.rawValue) token \(t.id) exists") }
    }

    static func grantArguments(_ g: OAuthGrantRecord) -> StatementArguments {
        let r = g.released
        return [g.id, g.clientID, g.redirectURI, g.codeChallenge, g.nonce, join(g.scopes), g.level, g.authTime.storageMilliseconds, g.subject, g.sessionID,
                join(g.userinfoClaims), join(g.idTokenClaims), r.fiscalNumber, r.givenName, r.familyName, r.birthdate, r.gender, r.birthPlace,
                r.birthProvince, g.expiresAt.storageMilliseconds, g.revokedAt?.storageMilliseconds]
    }

    /// A grant's columns, in the order ``grantArguments(_:)`` writes and ``grant(_:)`` reads them.
    static let grantColumns = ["id", "client_id", "redirect_uri", "code_challenge", "nonce", "scopes", "level", "auth_time", "subject", "session_id",
                               "userinfo_claims", "id_token_claims", "fiscal_number", "given_name", "family_name", "birthdate", "gender", "birth_place",
                               "birth_province", "expires_at", "revoked_at"]
    static let selectGrant = SQLText.select(grantColumns, from: "oauth_grant", where: "id = ?")
    static let insertGrantSQL = SQLText.insert(into: "oauth_grant", grantColumns, onConflictDoNothing: true)

    static func grant(_ row: Row) -> OAuthGrantRecord {
        func list(_ i: Int) -> [String] {
            let text: String = row[i]
            return text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
        }
        let released = ReleasedAttributes(fiscalNumber: row[12], givenName: row[13], familyName: row[14], birthdate: row[15], gender: row[16],
                                          birthPlace: row[17], birthProvince: row[18])
        return OAuthGrantRecord(id: row[0], clientID: row[1], redirectURI: row[2], codeChallenge: row[3], nonce: row[4], scopes: list(5), level: row[6],
                                authTime: Date(storageMilliseconds: row[7]), subject: row[8], sessionID: row[9], userinfoClaims: list(10),
                                idTokenClaims: list(11), released: released, expiresAt: Date(storageMilliseconds: row[19]),
                                revokedAt: (row[20] as Int64?).map(Date.init(storageMilliseconds:)))
    }
}
