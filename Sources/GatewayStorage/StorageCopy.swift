import Foundation

/// One replay-cache entry as a row (for copying a database; the gateway itself uses ``GatewayStorage/rememberOnce``).
public struct ReplayEntryRecord: StoredRow, Hashable {
    public var namespace: String
    public var key: String
    public var expiresAt: Date
    public static let table = "replay_cache"
    public static let columns = ["namespace", "key", "expires_at"]
    public var values: [SQLValue] { [.text(namespace), .text(key), .instant(expiresAt)] }
    public init(row: some SQLRowReading) throws {
        namespace = try row.requiredText(0)
        key = try row.requiredText(1)
        expiresAt = try row.instant(2)
    }
}

/// One OIDC `sid` as a row (for copying a database).
public struct SessionIdentifierRecord: StoredRow, Hashable {
    public var sid: String
    public var sessionID: String
    public var expiresAt: Date
    public static let table = "oidc_session_identifier"
    public static let columns = ["sid", "session_id", "expires_at"]
    public var values: [SQLValue] { [.text(sid), .text(sessionID), .instant(expiresAt)] }
    public init(row: some SQLRowReading) throws {
        sid = try row.requiredText(0)
        sessionID = try row.requiredText(1)
        expiresAt = try row.instant(2)
    }
}

/// The rows of one table, in its ``StoredRow/columns`` order.
public struct RowBatch: Sendable {
    public let table: String
    public let columns: [String]
    public let rows: [[SQLValue]]

    public init<R: StoredRow>(_ records: [R]) {
        table = R.table
        columns = R.columns
        rows = records.map(\.values)
    }
}

/// A SQL backend whose every row can be read and written wholesale: `cnsgw storage migrate` copies the embedded
/// SQLite database into PostgreSQL with it. Rows are read through their typed records (so a row the gateway could
/// not read is found before anything is written) and written as they were — sealed keys stay sealed under the same
/// key-encryption key, and audit records keep their sequence and hashes, so the chain verifies on the copy.
public protocol StorageRowCopying: Sendable {
    /// Every record of type `R`.
    func allRecords<R: StoredRow>(_ type: R.Type) async throws -> [R]
    /// Writes `batches` in one transaction; with `replacing`, every table named in ``StorageCopy/tables`` is emptied
    /// first (in the same transaction).
    func importRows(_ batches: [RowBatch], replacing: Bool) async throws
    /// Whether no table of ``StorageCopy/tables`` holds a row.
    func holdsNoRecords() async throws -> Bool
}

public enum StorageCopy {
    /// Every table the gateway keeps, in an order that copies what others refer to first.
    public static let tables = ["trusted_ca", "registration", "signing_key", "gateway_secret", "audit_log", "sso_session", "pending_login", "saml_request",
                                "oidc_authorization", "saml_name_id", "saml_logout", "oauth_grant", "oauth_token", "oidc_session_identifier", "replay_cache"]

    /// Reads every record of `source`, table by table.
    public static func export(_ source: some StorageRowCopying) async throws -> [RowBatch] {
        let batches = [
            RowBatch(try await source.allRecords(TrustedCARecord.self)), RowBatch(try await source.allRecords(RegistrationRecord.self)),
            RowBatch(try await source.allRecords(SigningKeyRecord.self)), RowBatch(try await source.allRecords(GatewaySecretRecord.self)),
            RowBatch(try await source.allRecords(AuditRecord.self)), RowBatch(try await source.allRecords(SessionRecord.self)),
            RowBatch(try await source.allRecords(PendingLoginRecord.self)), RowBatch(try await source.allRecords(SAMLRequestRecord.self)),
            RowBatch(try await source.allRecords(OIDCAuthorizationRecord.self)), RowBatch(try await source.allRecords(SAMLNameIDRecord.self)),
            RowBatch(try await source.allRecords(SAMLLogoutRecord.self)), RowBatch(try await source.allRecords(OAuthGrantRecord.self)),
            RowBatch(try await source.allRecords(OAuthTokenRecord.self)), RowBatch(try await source.allRecords(SessionIdentifierRecord.self)),
            RowBatch(try await source.allRecords(ReplayEntryRecord.self)),
        ]
        assert(batches.map(\.table) == tables)
        return batches
    }
}
