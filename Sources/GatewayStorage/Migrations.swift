import Foundation

/// The schema as an ordered list of steps, each with its SQL per dialect, shared by every SQL backend.
/// Never edit a released step: append a new one.
public enum StorageMigrations {
    public struct Step: Sendable {
        public let id: Int
        public let sqlite: [String]
        public let postgres: [String]
    }

    public static let steps: [Step] = [
        Step(id: 1, sqlite: [
            "CREATE TABLE trusted_ca (id TEXT PRIMARY KEY, name TEXT NOT NULL, certificate BLOB NOT NULL, policy BLOB NOT NULL, added_at INTEGER NOT NULL)",
            """
            CREATE TABLE pending_login (id TEXT PRIMARY KEY, requester TEXT NOT NULL, requested_level TEXT NOT NULL, comparison TEXT NOT NULL,
              attributes TEXT NOT NULL, force_fresh INTEGER NOT NULL, return_path TEXT NOT NULL, state TEXT NOT NULL, outcome BLOB,
              created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL)
            """,
            "CREATE INDEX pending_login_expiry ON pending_login (expires_at)",
            "CREATE TABLE replay_cache (namespace TEXT NOT NULL, key TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (namespace, key))",
            "CREATE TABLE audit_log (sequence INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE INDEX audit_log_time ON audit_log (time)",
        ], postgres: [
            "CREATE TABLE trusted_ca (id TEXT PRIMARY KEY, name TEXT NOT NULL, certificate BYTEA NOT NULL, policy BYTEA NOT NULL, added_at BIGINT NOT NULL)",
            """
            CREATE TABLE pending_login (id TEXT PRIMARY KEY, requester TEXT NOT NULL, requested_level TEXT NOT NULL, comparison TEXT NOT NULL,
              attributes TEXT NOT NULL, force_fresh BOOLEAN NOT NULL, return_path TEXT NOT NULL, state TEXT NOT NULL, outcome BYTEA,
              created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            "CREATE INDEX pending_login_expiry ON pending_login (expires_at)",
            "CREATE TABLE replay_cache (namespace TEXT NOT NULL, key TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (namespace, key))",
            "CREATE TABLE audit_log (sequence BIGINT PRIMARY KEY, time BIGINT NOT NULL, kind TEXT NOT NULL, payload BYTEA NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE INDEX audit_log_time ON audit_log (time)",
        ]),
        Step(id: 2, sqlite: sessionsAndRegistrations(blob: "BLOB", integer: "INTEGER"),
             postgres: sessionsAndRegistrations(blob: "BYTEA", integer: "BIGINT")),
        // Step 3: a pending login is bound to the browser that started it and to the one that consented.
        Step(id: 3, sqlite: loginBinding, postgres: loginBinding),
        // Step 4: OAuth grants, their codes and refresh tokens, and OIDC session identifiers as typed tables (they were
        // JSON in `one_time_code`; the SQLite backend carries such rows over in the same transaction).
        Step(id: 4, sqlite: oauthGrants(integer: "INTEGER"), postgres: oauthGrants(integer: "BIGINT")),
        // Step 5: the front ends' requests, SAML NameIDs and logout state as typed tables (the SQLite backend carries such
        // rows over from `one_time_code`).
        Step(id: 5, sqlite: frontEndRequests(integer: "INTEGER", boolean: "INTEGER"), postgres: frontEndRequests(integer: "BIGINT", boolean: "BOOLEAN")),
        // Step 6: the generic one-time codes are gone (everything they held has a typed table).
        Step(id: 6, sqlite: ["DROP TABLE one_time_code"], postgres: ["DROP TABLE one_time_code"]),
        // Step 7: the gateway's secrets in their own table (they were registrations of kind `gateway-secret`).
        Step(id: 7, sqlite: gatewaySecrets(blob: "BLOB", integer: "INTEGER"), postgres: gatewaySecrets(blob: "BYTEA", integer: "BIGINT")),
        // Step 8: the card decision of a pending login and the citizen of a session as columns (they were JSON, read
        // again at every step; the SQLite backend carries the JSON over), and step 9 drops the JSON.
        Step(id: 8, sqlite: cardOutcomeColumns(integer: "INTEGER"), postgres: cardOutcomeColumns(integer: "BIGINT")),
        Step(id: 9, sqlite: ["ALTER TABLE pending_login DROP COLUMN outcome", "ALTER TABLE sso_session DROP COLUMN outcome"],
             postgres: ["ALTER TABLE pending_login DROP COLUMN outcome", "ALTER TABLE sso_session DROP COLUMN outcome"]),
        // Step 10: PostgreSQL tells every instance when the trusted CAs, registrations or signing keys change (NOTIFY on
        // channel `cnsgw_changes`, the table's name as payload, sent at commit whoever wrote: a gateway, an admin command,
        // psql). SQLite has one instance and needs nothing.
        Step(id: 10, sqlite: [], postgres: changeNotifications),
        // Step 11: at most one published-but-not-signing key per use and algorithm, so instances that rotate at the
        // same moment publish one next key between them (the second insert is refused; it uses the first's).
        Step(id: 11, sqlite: [oneNextKey], postgres: [oneNextKey]),
    ]

    static let oneNextKey = "CREATE UNIQUE INDEX signing_key_one_next ON signing_key (use, algorithm) WHERE state = 'next'"

    /// The tables whose changes are announced on ``changeChannel``.
    public static let announcedTables = ["trusted_ca", "registration", "signing_key"]
    public static let changeChannel = "cnsgw_changes"

    static let changeNotifications = [
        """
        CREATE FUNCTION cnsgw_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('\(changeChannel)', TG_TABLE_NAME); RETURN NULL; END $$
        """,
    ] + announcedTables.map {
        "CREATE TRIGGER \($0)_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \($0) FOR EACH STATEMENT EXECUTE FUNCTION cnsgw_announce_change()"
    }

    /// The columns of a ``CitizenRecord``, in table `table`.
    public static let citizenColumns = ["citizen_fiscal_number", "citizen_codice_fiscale", "citizen_name", "citizen_family_name", "citizen_date_of_birth",
                                        "citizen_gender", "citizen_birth_place", "citizen_birth_place_name", "citizen_birth_province", "citizen_card_id"]

    static func cardOutcomeColumns(integer: String) -> [String] {
        let card = ["card_fingerprint TEXT", "card_decided_at \(integer)", "card_refusal TEXT", "card_level TEXT", "card_session_id TEXT"]
        return (card + citizenColumns.map { $0 + " TEXT" }).map { "ALTER TABLE pending_login ADD COLUMN " + $0 }
            + citizenColumns.map { "ALTER TABLE sso_session ADD COLUMN \($0) TEXT" }
    }

    static func gatewaySecrets(blob: String, integer: String) -> [String] {
        [
            "CREATE TABLE gateway_secret (name TEXT PRIMARY KEY, value \(blob) NOT NULL, created_at \(integer) NOT NULL)",
            "INSERT INTO gateway_secret (name, value, created_at) SELECT id, json, created_at FROM registration WHERE kind = 'gateway-secret'",
            "DELETE FROM registration WHERE kind = 'gateway-secret'",
        ]
    }

    static func frontEndRequests(integer: String, boolean: String) -> [String] {
        [
            """
            CREATE TABLE saml_request (login_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, issuer TEXT NOT NULL, issue_instant \(integer) NOT NULL,
              acs_url TEXT NOT NULL, relay_state TEXT, level TEXT NOT NULL, comparison TEXT NOT NULL, force_authn \(boolean) NOT NULL,
              attributes TEXT NOT NULL, profile TEXT NOT NULL, expires_at \(integer) NOT NULL)
            """,
            "CREATE INDEX saml_request_expiry ON saml_request (expires_at)",
            """
            CREATE TABLE oidc_authorization (login_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, state TEXT, nonce TEXT,
              scopes TEXT NOT NULL, code_challenge TEXT, level TEXT NOT NULL, force_fresh \(boolean) NOT NULL, max_age \(integer),
              userinfo_claims TEXT NOT NULL, id_token_claims TEXT NOT NULL, ui_locale TEXT, expires_at \(integer) NOT NULL)
            """,
            "CREATE INDEX oidc_authorization_expiry ON oidc_authorization (expires_at)",
            """
            CREATE TABLE saml_name_id (session_id TEXT NOT NULL, service_provider TEXT NOT NULL, name_id TEXT NOT NULL, expires_at \(integer) NOT NULL,
              PRIMARY KEY (session_id, service_provider))
            """,
            "CREATE INDEX saml_name_id_expiry ON saml_name_id (expires_at)",
            """
            CREATE TABLE saml_logout (id TEXT PRIMARY KEY, requester TEXT NOT NULL, response_url TEXT NOT NULL, in_response_to TEXT NOT NULL,
              relay_state TEXT, remaining TEXT NOT NULL, failed \(boolean) NOT NULL, pending_request_id TEXT, pending_service_provider TEXT,
              expires_at \(integer) NOT NULL)
            """,
            "CREATE INDEX saml_logout_expiry ON saml_logout (expires_at)",
        ]
    }

    static func oauthGrants(integer: String) -> [String] {
        [
            """
            CREATE TABLE oauth_grant (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT, nonce TEXT,
              scopes TEXT NOT NULL, level TEXT NOT NULL, auth_time \(integer) NOT NULL, subject TEXT NOT NULL, session_id TEXT,
              userinfo_claims TEXT NOT NULL, id_token_claims TEXT NOT NULL, fiscal_number TEXT, given_name TEXT, family_name TEXT, birthdate TEXT,
              gender TEXT, birth_place TEXT, birth_province TEXT, expires_at \(integer) NOT NULL, revoked_at \(integer))
            """,
            "CREATE INDEX oauth_grant_expiry ON oauth_grant (expires_at)",
            """
            CREATE TABLE oauth_token (kind TEXT NOT NULL, id TEXT NOT NULL, grant_id TEXT NOT NULL, expires_at \(integer) NOT NULL, spent_at \(integer),
              PRIMARY KEY (kind, id))
            """,
            "CREATE INDEX oauth_token_expiry ON oauth_token (expires_at)",
            "CREATE TABLE oidc_session_identifier (sid TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at \(integer) NOT NULL)",
            "CREATE INDEX oidc_session_identifier_expiry ON oidc_session_identifier (expires_at)",
        ]
    }

    static let loginBinding = [
        "ALTER TABLE pending_login ADD COLUMN browser_binding TEXT",
        "ALTER TABLE pending_login ADD COLUMN consent_token TEXT",
        "ALTER TABLE pending_login ADD COLUMN continuation_hash TEXT",
    ]
}

extension StorageMigrations {
    /// Step 2: SSO sessions, one-time codes, registrations and signing keys; the dialects differ only in type names.
    static func sessionsAndRegistrations(blob: String, integer: String) -> [String] {
        [
            """
            CREATE TABLE sso_session (id TEXT PRIMARY KEY, certificate_fingerprint TEXT NOT NULL, level TEXT NOT NULL, outcome \(blob) NOT NULL,
              authenticated_at \(integer) NOT NULL, expires_at \(integer) NOT NULL, participants TEXT NOT NULL, version \(integer) NOT NULL)
            """,
            "CREATE INDEX sso_session_expiry ON sso_session (expires_at)",
            """
            CREATE TABLE one_time_code (namespace TEXT NOT NULL, id TEXT NOT NULL, payload \(blob) NOT NULL, expires_at \(integer) NOT NULL,
              consumed_at \(integer), PRIMARY KEY (namespace, id))
            """,
            "CREATE INDEX one_time_code_expiry ON one_time_code (expires_at)",
            """
            CREATE TABLE registration (kind TEXT NOT NULL, id TEXT NOT NULL, json \(blob) NOT NULL, created_at \(integer) NOT NULL,
              updated_at \(integer) NOT NULL, version \(integer) NOT NULL, PRIMARY KEY (kind, id))
            """,
            """
            CREATE TABLE signing_key (id TEXT PRIMARY KEY, use TEXT NOT NULL, algorithm TEXT NOT NULL, private_key TEXT NOT NULL,
              certificate TEXT, state TEXT NOT NULL, created_at \(integer) NOT NULL, remove_after \(integer), version \(integer) NOT NULL)
            """,
        ]
    }
}

extension Date {
    /// Milliseconds since 1970: how every backend stores instants (portable, sortable).
    public var storageMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    public init(storageMilliseconds ms: Int64) { self.init(timeIntervalSince1970: TimeInterval(ms) / 1000) }
}
