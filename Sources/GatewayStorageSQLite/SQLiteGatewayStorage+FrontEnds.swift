import Foundation
import GatewayStorage
import GRDB

// The front ends' requests, SAML NameIDs and logout state on SQLite. Each is taken once: a DELETE … RETURNING in one
// statement, so of two concurrent takers exactly one gets the row.
extension SQLiteGatewayStorage {
    public func storeSAMLRequest(_ r: SAMLRequestRecord) async throws {
        try await write { db in
            try db.cachedStatement(sql: """
                INSERT INTO saml_request (\(Self.samlRequestColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """).execute(arguments: [r.loginID, r.requestID, r.issuer, r.issueInstant.storageMilliseconds, r.assertionConsumerServiceURL, r.relayState,
                                 r.level, r.comparison, r.forceAuthn, Self.join(r.attributes), r.profile, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "login \(r.loginID) already has a SAML request") }
        }
    }

    public func takeSAMLRequest(loginID: String, now: Date) async throws -> SAMLRequestRecord? {
        try await take("DELETE FROM saml_request WHERE login_id = ? RETURNING \(Self.samlRequestColumns)", [loginID], now: now, expiresAt: 11) { row in
            SAMLRequestRecord(loginID: row[0], requestID: row[1], issuer: row[2], issueInstant: Date(storageMilliseconds: row[3]),
                              assertionConsumerServiceURL: row[4], relayState: row[5], level: row[6], comparison: row[7], forceAuthn: row[8],
                              attributes: Self.split(row[9]), profile: row[10], expiresAt: Date(storageMilliseconds: row[11]))
        }
    }

    public func storeOIDCAuthorization(_ r: OIDCAuthorizationRecord) async throws {
        try await write { db in
            try db.cachedStatement(sql: """
                INSERT INTO oidc_authorization (\(Self.authorizationColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """).execute(arguments: [r.loginID, r.clientID, r.redirectURI, r.state, r.nonce, Self.join(r.scopes), r.codeChallenge, r.level, r.forceFresh,
                                 r.maxAge, Self.join(r.userinfoClaims), Self.join(r.idTokenClaims), r.uiLocale, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "login \(r.loginID) already has an OIDC authorization request") }
        }
    }

    public func takeOIDCAuthorization(loginID: String, now: Date) async throws -> OIDCAuthorizationRecord? {
        try await take("DELETE FROM oidc_authorization WHERE login_id = ? RETURNING \(Self.authorizationColumns)", [loginID], now: now, expiresAt: 13) { row in
            OIDCAuthorizationRecord(loginID: row[0], clientID: row[1], redirectURI: row[2], state: row[3], nonce: row[4], scopes: Self.split(row[5]),
                                    codeChallenge: row[6], level: row[7], forceFresh: row[8], maxAge: row[9], userinfoClaims: Self.split(row[10]),
                                    idTokenClaims: Self.split(row[11]), uiLocale: row[12], expiresAt: Date(storageMilliseconds: row[13]))
        }
    }

    public func recordSAMLNameID(_ r: SAMLNameIDRecord) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO saml_name_id (session_id, service_provider, name_id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [r.sessionID, r.serviceProvider, r.nameID, r.expiresAt.storageMilliseconds])
        }
    }

    public func takeSAMLNameID(sessionID: String, serviceProvider: String, now: Date) async throws -> SAMLNameIDRecord? {
        try await take("DELETE FROM saml_name_id WHERE session_id = ? AND service_provider = ? RETURNING session_id, service_provider, name_id, expires_at",
                       [sessionID, serviceProvider], now: now, expiresAt: 3) { row in
            SAMLNameIDRecord(sessionID: row[0], serviceProvider: row[1], nameID: row[2], expiresAt: Date(storageMilliseconds: row[3]))
        }
    }

    public func storeSAMLLogout(_ r: SAMLLogoutRecord) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO saml_logout (\(Self.logoutColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", arguments: [r.id, r.requester, r.responseURL, r.inResponseTo, r.relayState,
                                 Self.join(r.remaining.map { $0.sessionID + "\t" + $0.serviceProvider }), r.failed, r.pendingRequestID,
                                 r.pendingServiceProvider, r.expiresAt.storageMilliseconds])
            if db.changesCount == 0 { throw StorageError(.alreadyExists, "a SAML logout \(r.id) exists") }
        }
    }

    public func takeSAMLLogout(id: String, now: Date) async throws -> SAMLLogoutRecord? {
        try await take("DELETE FROM saml_logout WHERE id = ? RETURNING \(Self.logoutColumns)", [id], now: now, expiresAt: 9) { row in
            let remaining = Self.split(row[5]).compactMap { line -> SAMLLogoutRecord.Participant? in
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                return parts.count == 2 ? SAMLLogoutRecord.Participant(sessionID: parts[0], serviceProvider: parts[1]) : nil
            }
            return SAMLLogoutRecord(id: row[0], requester: row[1], responseURL: row[2], inResponseTo: row[3], relayState: row[4], remaining: remaining,
                                    failed: row[6], pendingRequestID: row[7], pendingServiceProvider: row[8], expiresAt: Date(storageMilliseconds: row[9]))
        }
    }

    // Columns in the order the rows are written and read (by index).
    static let samlRequestColumns = "login_id, request_id, issuer, issue_instant, acs_url, relay_state, level, comparison, force_authn, attributes, profile, expires_at"
    static let authorizationColumns = """
        login_id, client_id, redirect_uri, state, nonce, scopes, code_challenge, level, force_fresh, max_age, userinfo_claims, id_token_claims, ui_locale, expires_at
        """
    static let logoutColumns = "id, requester, response_url, in_response_to, relay_state, remaining, failed, pending_request_id, pending_service_provider, expires_at"

    /// Deletes the row `sql` names and returns it, unless it had expired at `now` (column `expiresAt` of the returned row;
    /// an expired row is deleted all the same).
    func take<T: Sendable>(_ sql: String, _ arguments: StatementArguments, now: Date, expiresAt column: Int, _ decode: @escaping @Sendable (Row) -> T) async throws -> T? {
        let ms = now.storageMilliseconds
        return try await write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments), (row[column] as Int64) > ms else { return nil }
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
