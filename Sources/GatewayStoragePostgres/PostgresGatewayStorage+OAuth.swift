import Foundation
import GatewayStorage
import PostgresNIO

// OAuth grants and tokens, OIDC session identifiers, the front ends' one-time records, and housekeeping.
extension PostgresGatewayStorage {
    public func createGrant(_ g: OAuthGrantRecord, code: OAuthTokenRecord) async throws {
        try await write("create grant") { conn in
            guard try await conn.insertIfAbsent(g) else { throw StorageError(.alreadyExists, "a grant \(g.id) exists") }
            guard try await conn.insertIfAbsent(code) else { throw StorageError(.alreadyExists, "a \(code.kind.rawValue) token \(code.id) exists") }
        }
    }

    public func storeGrantToken(_ token: OAuthTokenRecord) async throws {
        try await autocommit("store grant token") { conn in
            guard try await conn.insertIfAbsent(token) else { throw StorageError(.alreadyExists, "a \(token.kind.rawValue) token \(token.id) exists") }
        }
    }

    public func redeemGrantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRedemption {
        try await write("redeem \(kind.rawValue)") { conn in
            // The conditional UPDATE takes the row lock: of concurrent redeemers (in any instance) one changes the row, the
            // others wait for it and then find it spent.
            let key: [SQLValue] = [.text(kind.rawValue), .text(id), .instant(now)]
            if let spent = try await conn.rows("""
                UPDATE oauth_token SET spent_at = $3 WHERE kind = $1 AND id = $2 AND expires_at > $3 AND spent_at IS NULL RETURNING grant_id
                """, key).first {
                let grantID = try spent.requiredText(0)
                let grant = try await conn.records(OAuthGrantRecord.self, where: "id = $1 AND expires_at > $2 AND revoked_at IS NULL",
                                                   [.text(grantID), .instant(now)]).first
                return .redeemed(grantID: grantID, grant: grant)
            }
            guard let found = try await conn.rows("SELECT grant_id FROM oauth_token WHERE kind = $1 AND id = $2 AND expires_at > $3", key).first else {
                return .notFound
            }
            return .replayed(grantID: try found.requiredText(0))
        }
    }

    public func grant(id: String, now: Date) async throws -> OAuthGrantRecord? {
        try await autocommit("grant") { try await $0.records(OAuthGrantRecord.self, where: "id = $1 AND expires_at > $2", [.text(id), .instant(now)]).first }
    }

    public func grantToken(_ kind: OAuthTokenRecord.Kind, id: String, now: Date) async throws -> OAuthTokenRecord? {
        try await autocommit("grant token") { conn in
            try await conn.records(OAuthTokenRecord.self, where: "kind = $1 AND id = $2 AND expires_at > $3", [.text(kind.rawValue), .text(id), .instant(now)]).first
        }
    }

    public func revokeGrant(id: String, now: Date) async throws -> Bool {
        try await autocommit("revoke grant") { conn in
            try await conn.count("UPDATE oauth_grant SET revoked_at = $2 WHERE id = $1 AND expires_at > $2 AND revoked_at IS NULL RETURNING 1",
                                 [.text(id), .instant(now)]) == 1
        }
    }

    public func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws {
        try await autocommit("record sid") { conn in
            try await conn.run("INSERT INTO oidc_session_identifier (sid, session_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                               [.text(sid), .text(sessionID), .instant(expiresAt)])
        }
    }

    public func sessionID(forSessionIdentifier sid: String, now: Date) async throws -> String? {
        try await autocommit("sid") { conn in
            try await conn.rows("SELECT session_id FROM oidc_session_identifier WHERE sid = $1 AND expires_at > $2", [.text(sid), .instant(now)])
                .first?.requiredText(0)
        }
    }

    // MARK: the front ends' records, each taken once (DELETE … RETURNING: of two takers one gets the row)

    func store<R: StoredRow>(_ record: R, _ what: String) async throws {
        try await autocommit("store \(what)") { conn in
            guard try await conn.insertIfAbsent(record) else { throw StorageError(.alreadyExists, "\(what) exists") }
        }
    }

    /// Deletes the row and returns it unless it had expired at `now` (an expired row is deleted all the same).
    func take<R: StoredRow>(_ type: R.Type, where condition: String, _ values: [SQLValue], now: Date, expiresAt: (R) -> Date) async throws -> R? {
        let record = try await autocommit("take \(R.table)") { conn in
            try await conn.rows("DELETE FROM \(R.table) WHERE \(condition) RETURNING \(R.columns.joined(separator: ", "))", values).first.map { try R(row: $0) }
        }
        guard let record, expiresAt(record) > now else { return nil }
        return record
    }

    public func storeSAMLRequest(_ r: SAMLRequestRecord) async throws { try await store(r, "the SAML request of login \(r.loginID)") }

    public func takeSAMLRequest(loginID: String, now: Date) async throws -> SAMLRequestRecord? {
        try await take(SAMLRequestRecord.self, where: "login_id = $1", [.text(loginID)], now: now, expiresAt: \.expiresAt)
    }

    public func storeOIDCAuthorization(_ r: OIDCAuthorizationRecord) async throws { try await store(r, "the OIDC authorization request of login \(r.loginID)") }

    public func takeOIDCAuthorization(loginID: String, now: Date) async throws -> OIDCAuthorizationRecord? {
        try await take(OIDCAuthorizationRecord.self, where: "login_id = $1", [.text(loginID)], now: now, expiresAt: \.expiresAt)
    }

    public func recordSAMLNameID(_ r: SAMLNameIDRecord) async throws {
        try await autocommit("record NameID") { conn in _ = try await conn.insertIfAbsent(r) }
    }

    public func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) async throws -> SAMLNameIDRecord? {
        try await take(SAMLNameIDRecord.self, where: "session_id = $1 AND service_provider = $2", [.text(sessionID), .text(serviceProvider)], now: now,
                       expiresAt: \.expiresAt)
    }

    public func storeSAMLLogout(_ r: SAMLLogoutRecord) async throws { try await store(r, "a SAML logout \(r.id)") }

    public func takeSAMLLogout(id: String, now: Date) async throws -> SAMLLogoutRecord? {
        try await take(SAMLLogoutRecord.self, where: "id = $1", [.text(id)], now: now, expiresAt: \.expiresAt)
    }

    // MARK: housekeeping

    public func garbageCollect(now: Date, auditRetention: TimeInterval?) async throws -> GarbageCollectionResult {
        try await write("housekeeping") { conn in
            var result = GarbageCollectionResult()
            // One instance collects at a time; another that finds the lock taken has nothing to do this round.
            guard try await conn.rows("SELECT pg_try_advisory_xact_lock($1)", [.integer(Lock.housekeeping.rawValue)]).first?.requiredBoolean(0) == true else {
                return result
            }
            let ms: SQLValue = .instant(now)
            func removed(_ sql: String, _ values: [SQLValue] = [ms]) async throws -> Int {
                try await conn.rows("WITH gone AS (\(sql) RETURNING 1) SELECT count(*) FROM gone", values).first.map { Int(try $0.requiredInteger(0)) } ?? 0
            }
            result.pendingLogins = try await removed("DELETE FROM pending_login WHERE expires_at <= $1", [.instant(now - PendingLoginRecord.keptAfterExpiry)])
            result.replayEntries = try await removed("DELETE FROM replay_cache WHERE expires_at <= $1")
            if let auditRetention {
                // The newest record stays whatever its age, so the chain always has a head to append to; the audit lock keeps
                // appends out while the oldest records go.
                try await conn.run("SELECT pg_advisory_xact_lock($1)", [.integer(Lock.audit.rawValue)])
                result.auditRecords = try await removed("DELETE FROM audit_log WHERE time < $1 AND sequence < (SELECT MAX(sequence) FROM audit_log)",
                                                        [.instant(now.addingTimeInterval(-auditRetention))])
            }
            result.sessions = try await removed("DELETE FROM sso_session WHERE expires_at <= $1")
            for table in ["saml_request", "oidc_authorization", "saml_name_id", "saml_logout"] {
                result.frontEndRecords += try await removed("DELETE FROM \(table) WHERE expires_at <= $1")
            }
            result.signingKeys = try await removed("DELETE FROM signing_key WHERE state = 'retired' AND remove_after <= $1")
            result.grants = try await removed("DELETE FROM oauth_token WHERE expires_at <= $1 OR grant_id IN (SELECT id FROM oauth_grant WHERE expires_at <= $1)")
                + removed("DELETE FROM oauth_grant WHERE expires_at <= $1") + removed("DELETE FROM oidc_session_identifier WHERE expires_at <= $1")
            return result
        }
    }
}
