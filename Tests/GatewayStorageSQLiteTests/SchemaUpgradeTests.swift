import Foundation
import GatewayStorage
import GatewayStorageSQLite
import GatewayAudit
import GRDB
import Testing

/// Schema steps 4, 5, 7 and 8 carry the rows that versions up to step 3 kept as JSON in `one_time_code` into typed tables.
@Suite struct SchemaUpgradeTests {
    /// A database as the previous version left it: schema steps 1–3, and the rows its OIDC front end wrote for one
    /// grant (JSONEncoder's default coding of its `AuthorizationGrant`: dates as seconds since 2001, claims with values).
    static func previousVersionDatabase(now: Date) throws -> String {
        let path = NSTemporaryDirectory() + "cnsgw-legacy-\(UUID().uuidString).sqlite"
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY)")
            for step in StorageMigrations.steps where step.id <= 3 {
                for sql in step.sqlite { try db.execute(sql: sql) }
                try db.execute(sql: "INSERT INTO schema_migrations (id) VALUES (?)", arguments: [step.id])
            }
            let reference = now.timeIntervalSinceReferenceDate
            let grant = """
                {"grantID":"g-old","clientID":"https://rp.example.it","redirectURI":"https://rp.example.it/cb","codeChallenge":"challenge",
                 "scopes":["openid","profile","offline_access"],"level":"SpidL2","authTime":\(reference - 30),"subject":"sub-old","sessionID":"session-old",
                 "userinfoClaims":{"given_name":"Manuel","family_name":"Riccardi","place_of_birth":{"locality":"D969","region":"GE"},
                 "https://attributes.eid.gov.it/fiscal_number":"TINIT-RCCMNL83S18D969H"},"idTokenClaims":{"family_name":"Riccardi"},
                 "expiresAt":\(reference + 86_400)}
                """
            let ms = now.storageMilliseconds
            func row(_ namespace: String, _ id: String, _ payload: String, expires: Int64, consumed: Int64? = nil) throws {
                try db.execute(sql: "INSERT INTO one_time_code (namespace, id, payload, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [namespace, id, Data(payload.utf8), expires, consumed])
            }
            try row("oidc-grant", "g-old", grant, expires: ms + 86_400_000)
            try row("oidc-code", "code-hash", grant, expires: ms + 60_000, consumed: ms - 1000)
            try row("oidc-refresh", "refresh-hash", grant, expires: ms + 86_400_000)
            try row("oidc-sid", "sid-old", "session-old", expires: ms + 1_800_000)
            try row("oidc-login", "login-1", """
                {"clientID":"https://rp.example.it","redirectURI":"https://rp.example.it/cb","state":"st","scopes":["openid"],"codeChallenge":"c",
                 "level":"SpidL2","forceFresh":true,"userinfoClaims":["given_name"],"idTokenClaims":[],"uiLocale":"it"}
                """, expires: ms + 600_000)
            try row("saml-login", "login-2", """
                {"id":"_req","issuer":"https://sp.example.it","issueInstant":\(reference - 5),"destination":{"serviceProvider":"https://sp.example.it",
                 "assertionConsumerServiceURL":"https://sp.example.it/acs","inResponseTo":"_req","relayState":"rs"},"level":"SpidL1",
                 "comparison":"minimum","forceAuthn":false,"attributes":["name","fiscalNumber"],"profile":"spid"}
                """, expires: ms + 600_000)
            try row("saml-session-nameid", "session-old\nhttps://sp.example.it", "_nameid", expires: ms + 1_800_000)
            try row("saml-logout", "_state", """
                {"original":{"serviceProvider":"https://sp.example.it","assertionConsumerServiceURL":"https://sp.example.it/slo","inResponseTo":"_lr"},
                 "remaining":[{"session":"session-old","serviceProvider":"https://other.example.it"}],"failed":false,"pendingRequestID":"_p",
                 "pendingServiceProvider":"https://third.example.it"}
                """, expires: ms + 600_000)
            try row("oidc-grant", "broken", "not json", expires: ms + 600_000)
            // A login at its consent step and two sessions (one unreadable), with the card decision as the JSON of its time.
            let outcome = """
                {"report":{"valid":true,"reason":null,"detail":"ok","chain":[],"revocation":null,"level":"SpidL2","identity":{"fiscalNumber":
                "TINIT-RCCMNL83S18D969H","codiceFiscale":"RCCMNL83S18D969H","name":"MANUEL","familyName":"RICCARDI","dateOfBirth":"1983-11-18",
                "gender":"M","placeOfBirth":{"code":"D969","name":"GENOVA","province":"GE"},"cardId":"6120016461039008"},"legacyCrypto":[],
                "anchor":"test","validationTime":\(reference - 20)},"certificateFingerprint":"aa","sessionID":"session-old"}
                """
            try db.execute(sql: """
                INSERT INTO pending_login (id, requester, requested_level, comparison, attributes, force_fresh, return_path, state, outcome, created_at,
                  expires_at, version, consent_token) VALUES ('login-3', 'https://sp.example.it', 'SpidL2', 'minimum', 'name', 0, '/saml/continue',
                  'awaiting_consent', ?, ?, ?, 1, 'token')
                """, arguments: [Data(outcome.utf8), ms - 20_000, ms + 600_000])
            for (id, json) in [("session-old", outcome), ("session-broken", "{}")] {
                try db.execute(sql: """
                    INSERT INTO sso_session (id, certificate_fingerprint, level, outcome, authenticated_at, expires_at, participants, version)
                    VALUES (?, 'aa', 'SpidL1', ?, ?, ?, 'https://sp.example.it', 0)
                    """, arguments: [id, Data(json.utf8), ms - 20_000, ms + 1_800_000])
            }
            try db.execute(sql: "INSERT INTO registration (kind, id, json, created_at, updated_at, version) VALUES ('gateway-secret', 'oidc-subject-key', ?, ?, ?, 0)",
                           arguments: [Data(repeating: 5, count: 32), ms, ms])
        }
        return path
    }

    @Test("grants, codes, refresh tokens, sids, logins, sessions and logouts under way, and the subject key of the previous version keep working after the upgrade")
    func carriesRowsForward() async throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let storage = try SQLiteGatewayStorage(path: Self.previousVersionDatabase(now: now))
        let grant = try #require(try await storage.grant(id: "g-old", now: now))
        #expect(grant.clientID == "https://rp.example.it" && grant.redirectURI == "https://rp.example.it/cb" && grant.codeChallenge == "challenge")
        #expect(grant.scopes == ["openid", "profile", "offline_access"] && grant.level == "SpidL2" && grant.subject == "sub-old")
        #expect(abs(grant.authTime.timeIntervalSince(now - 30)) < 0.01 && grant.sessionID == "session-old" && grant.revokedAt == nil)
        #expect(grant.userinfoClaims == ["family_name", "given_name", "https://attributes.eid.gov.it/fiscal_number", "place_of_birth"])
        #expect(grant.idTokenClaims == ["family_name"])
        #expect(grant.released == ReleasedAttributes(fiscalNumber: "TINIT-RCCMNL83S18D969H", givenName: "Manuel", familyName: "Riccardi",
                                                     birthPlace: "D969", birthProvince: "GE"))
        // The spent code stays spent (a replay is still seen); the refresh token still works, once.
        #expect(try await storage.redeemGrantToken(.authorizationCode, id: "code-hash", now: now) == .replayed(grantID: "g-old"))
        guard case .redeemed(let grantID, let live?) = try await storage.redeemGrantToken(.refreshToken, id: "refresh-hash", now: now) else {
            Issue.record("the refresh token issued before the upgrade no longer works"); return
        }
        #expect(grantID == "g-old" && live == grant)
        #expect(try await storage.sessionID(forSessionIdentifier: "sid-old", now: now) == "session-old")
        // The logins and the logout under way during the upgrade go on from typed records.
        let authorization = try #require(try await storage.takeOIDCAuthorization(loginID: "login-1", now: now))
        #expect(authorization.state == "st" && authorization.forceFresh && authorization.uiLocale == "it" && authorization.nonce == nil)
        let saml = try #require(try await storage.takeSAMLRequest(loginID: "login-2", now: now))
        #expect(saml.requestID == "_req" && saml.assertionConsumerServiceURL == "https://sp.example.it/acs" && saml.relayState == "rs")
        #expect(saml.attributes == ["name", "fiscalNumber"] && saml.profile == "spid" && abs(saml.issueInstant.timeIntervalSince(now - 5)) < 0.01)
        #expect(try await storage.takeSAMLNameID(sessionID: "session-old", serviceProvider: "https://sp.example.it", now: now)?.nameID == "_nameid")
        let logout = try #require(try await storage.takeSAMLLogout(id: "_state", now: now))
        #expect(logout.responseURL == "https://sp.example.it/slo" && logout.relayState == nil && logout.pendingRequestID == "_p")
        #expect(logout.remaining == [.init(sessionID: "session-old", serviceProvider: "https://other.example.it")])
        // The pairwise-subject key moved to the gateway's secrets: every citizen keeps their `sub` at every client.
        #expect(try await storage.gatewaySecret(name: "oidc-subject-key")?.value == Data(repeating: 5, count: 32))
        #expect(try await storage.registrations(kind: "gateway-secret").isEmpty)
        // The card decision and the session's citizen became columns; the unreadable session ended.
        let citizen = CitizenRecord(fiscalNumber: "TINIT-RCCMNL83S18D969H", codiceFiscale: "RCCMNL83S18D969H", name: "MANUEL", familyName: "RICCARDI",
                                    dateOfBirth: "1983-11-18", gender: "M", birthPlace: "D969", birthPlaceName: "GENOVA", birthProvince: "GE",
                                    cardID: "6120016461039008")
        let login = try #require(try await storage.pendingLogin(id: "login-3"))
        let card = try #require(login.card)
        #expect(login.state == .awaitingConsent && login.consentToken == "token")
        #expect(card.certificateFingerprint == "aa" && card.refusal == nil && card.level == "SpidL2" && card.citizen == citizen && card.sessionID == "session-old")
        #expect(abs(card.decidedAt.timeIntervalSince(now - 20)) < 0.01)
        #expect(try await storage.session(id: "session-old")?.citizen == citizen)
        #expect(try await storage.session(id: "session-broken") == nil)
    }

    @Test("a database written by the previous version (9e7cfc2) opens: grants typed, codes still spent, the audit chain intact")
    func previousVersionFile() async throws {
        let fixture = try #require(Bundle.module.url(forResource: "made-by-9e7cfc2", withExtension: "sqlite", subdirectory: "Fixtures"))
        let path = NSTemporaryDirectory() + "cnsgw-previous-\(UUID().uuidString).sqlite"
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        // What the previous version wrote, read before the upgrade.
        let (grantIDs, codeIDs, auditCount, pending) = try await DatabaseQueue(path: path).read { db in
            (try String.fetchAll(db, sql: "SELECT id FROM one_time_code WHERE namespace = 'oidc-grant'"),
             try String.fetchAll(db, sql: "SELECT id FROM one_time_code WHERE namespace = 'oidc-code'"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_login") ?? 0)
        }
        #expect(grantIDs.count == 46 && codeIDs.count == 46 && auditCount == 569)
        let storage = try SQLiteGatewayStorage(path: path)
        let now = try #require(try await storage.lastAuditRecord()?.time)   // the database's own time, so nothing has expired
        for id in grantIDs {
            let grant = try #require(try await storage.grant(id: id, now: now))
            #expect(grant.clientID == "https://bench.example.it" && grant.level == "SpidL2" && grant.revokedAt == nil && grant.scopes.contains("openid"))
        }
        for id in codeIDs { #expect(try await storage.grantToken(.authorizationCode, id: id, now: now - 1)?.spentAt != nil) }
        let records = try await storage.auditRecords(since: nil, limit: nil)
        #expect(records.count == 569 && AuditLog.verify(records) == .intact(records: 569, firstSequence: 1))
        #expect(try await storage.gatewaySecret(name: "oidc-subject-key") != nil)
        #expect(try await storage.registrations(kind: "oidc-client").map(\.id) == ["https://bench.example.it"])
        let oidcKeys = try await storage.signingKeys(use: "oidc"), samlKeys = try await storage.signingKeys(use: "saml")
        #expect(oidcKeys.count == 2 && samlKeys.count == 1)
        // Pending logins kept their card decision as columns.
        let logins = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT id FROM pending_login") }
        #expect(logins.count == pending)
        for id in logins.prefix(5) {
            let login = try #require(try await storage.pendingLogin(id: id))
            #expect(login.card?.citizen?.codiceFiscale == "RCCMNL83S18D969H" && login.card?.level == "SpidL2")
        }
    }
}

