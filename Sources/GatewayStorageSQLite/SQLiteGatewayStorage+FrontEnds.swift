import Foundation
import GatewayStorage
import GRDB

// The front ends' requests, SAML NameIDs and logout state on SQLite. Each is taken once: a DELETE … RETURNING in one
// statement, so of two concurrent takers exactly one gets the row.
extension SQLiteGatewayStorage {
    public func storeSAMLRequest(_ r: SAMLRequestRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO saml_request (login_id, request_id, issuer, issue_instant, acs_url, relay_state, level, comparison, force_authn, attributes,
                  profile, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [r.loginID, r.requestID, r.issuer, r.issueInstant.storageMilliseconds, r.assertionConsumerServiceURL, r.relayState,
                                 r.level, r.comparison, r.forceAuthn, Self.join(r.attributes), r.profile, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "login \(r.loginID) already has a SAML request") }
        }
    }

    public func takeSAMLRequest(loginID: String, now: Date) async throws -> SAMLRequestRecord? {
        try await take("DELETE FROM saml_request WHERE login_id = ? RETURNING *", [loginID], now: now) { row in
            SAMLRequestRecord(loginID: row["login_id"], requestID: row["request_id"], issuer: row["issuer"],
                              issueInstant: Date(storageMilliseconds: row["issue_instant"]), assertionConsumerServiceURL: row["acs_url"],
                              relayState: row["relay_state"], level: row["level"], comparison: row["comparison"], forceAuthn: row["force_authn"],
                              attributes: Self.split(row["attributes"]), profile: row["profile"], expiresAt: Date(storageMilliseconds: row["expires_at"]))
        }
    }

    public func storeOIDCAuthorization(_ r: OIDCAuthorizationRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO oidc_authorization (login_id, client_id, redirect_uri, state, nonce, scopes, code_challenge, level, force_fresh, max_age,
                  userinfo_claims, id_token_claims, ui_locale, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [r.loginID, r.clientID, r.redirectURI, r.state, r.nonce, Self.join(r.scopes), r.codeChallenge, r.level, r.forceFresh,
                                 r.maxAge, Self.join(r.userinfoClaims), Self.join(r.idTokenClaims), r.uiLocale, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "login \(r.loginID) already has an OIDC authorization request") }
        }
    }

    public func takeOIDCAuthorization(loginID: String, now: Date) async throws -> OIDCAuthorizationRecord? {
        try await take("DELETE FROM oidc_authorization WHERE login_id = ? RETURNING *", [loginID], now: now) { row in
            OIDCAuthorizationRecord(loginID: row["login_id"], clientID: row["client_id"], redirectURI: row["redirect_uri"], state: row["state"],
                                    nonce: row["nonce"], scopes: Self.split(row["scopes"]), codeChallenge: row["code_challenge"], level: row["level"],
                                    forceFresh: row["force_fresh"], maxAge: row["max_age"], userinfoClaims: Self.split(row["userinfo_claims"]),
                                    idTokenClaims: Self.split(row["id_token_claims"]), uiLocale: row["ui_locale"],
                                    expiresAt: Date(storageMilliseconds: row["expires_at"]))
        }
    }

    public func recordSAMLNameID(_ r: SAMLNameIDRecord) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO saml_name_id (session_id, service_provider, name_id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [r.sessionID, r.serviceProvider, r.nameID, r.expiresAt.storageMilliseconds])
        }
    }

    public func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) async throws -> SAMLNameIDRecord? {
        try await take("DELETE FROM saml_name_id WHERE session_id = ? AND service_provider = ? RETURNING *", [sessionID, serviceProvider], now: now) { row in
            SAMLNameIDRecord(sessionID: row["session_id"], serviceProvider: row["service_provider"], nameID: row["name_id"],
                             expiresAt: Date(storageMilliseconds: row["expires_at"]))
        }
    }

    public func storeSAMLLogout(_ r: SAMLLogoutRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO saml_logout (id, requester, response_url, in_response_to, relay_state, remaining, failed, pending_request_id,
                  pending_service_provider, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [r.id, r.requester, r.responseURL, r.inResponseTo, r.relayState,
                                 Self.join(r.remaining.map { $0.sessionID + "\t" + $0.serviceProvider }), r.failed, r.pendingRequestID,
                                 r.pendingServiceProvider, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a SAML logout \(r.id) exists") }
        }
    }

    public func takeSAMLLogout(id: String, now: Date) async throws -> SAMLLogoutRecord? {
        try await take("DELETE FROM saml_logout WHERE id = ? RETURNING *", [id], now: now) { row in
            let remaining = Self.split(row["remaining"]).compactMap { line -> SAMLLogoutRecord.Participant? in
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                return parts.count == 2 ? SAMLLogoutRecord.Participant(sessionID: parts[0], serviceProvider: parts[1]) : nil
            }
            return SAMLLogoutRecord(id: row["id"], requester: row["requester"], responseURL: row["response_url"], inResponseTo: row["in_response_to"],
                                    relayState: row["relay_state"], remaining: remaining, failed: row["failed"], pendingRequestID: row["pending_request_id"],
                                    pendingServiceProvider: row["pending_service_provider"], expiresAt: Date(storageMilliseconds: row["expires_at"]))
        }
    }

    /// Deletes the row `sql` names and returns it, unless it had expired at `now` (an expired row is deleted all the same).
    func take<T: Sendable>(_ sql: String, _ arguments: StatementArguments, now: Date, _ decode: @escaping @Sendable (Row) -> T) async throws -> T? {
        let ms = now.storageMilliseconds
        return try await write { db in
            guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments), (row["expires_at"] as Int64) > ms else { return nil }
            return decode(row)
        }
    }

    static func split(_ text: String) -> [String] { text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// Removes expired front-end requests, NameIDs and logout state.
    static func collectFrontEnds(_ db: Database, now: Date) throws -> Int {
        var removed = 0
        for table in ["saml_request", "oidc_authorization", "saml_name_id", "saml_logout"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE expires_at <= ?", arguments: [now.storageMilliseconds])
            removed += db.changesCount
        }
        return removed
    }
}
