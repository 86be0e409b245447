import Foundation

/// A value bound to a SQL statement, the same for every SQL backend (each maps it to its driver's type).
public enum SQLValue: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    case boolean(Bool)
    case blob(Data)
    case null

    public static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    public static func integer(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }
    public static func instant(_ value: Date?) -> SQLValue { value.map { .integer($0.storageMilliseconds) } ?? .null }
    /// A list stored as one text column, one item per line.
    public static func lines(_ items: [String]) -> SQLValue { .text(items.joined(separator: "\n")) }
}

/// A result row read by column index (a backend's row type conforms).
public protocol SQLRowReading {
    func text(_ index: Int) throws -> String?
    func integer(_ index: Int) throws -> Int64?
    func boolean(_ index: Int) throws -> Bool?
    func blob(_ index: Int) throws -> Data?
}

extension SQLRowReading {
    public func requiredText(_ i: Int) throws -> String {
        guard let v = try text(i) else { throw StorageError(.corrupted, "column \(i) is NULL where a value is required") }
        return v
    }
    public func requiredInteger(_ i: Int) throws -> Int64 {
        guard let v = try integer(i) else { throw StorageError(.corrupted, "column \(i) is NULL where a number is required") }
        return v
    }
    public func requiredBoolean(_ i: Int) throws -> Bool {
        guard let v = try boolean(i) else { throw StorageError(.corrupted, "column \(i) is NULL where a boolean is required") }
        return v
    }
    public func requiredBlob(_ i: Int) throws -> Data {
        guard let v = try blob(i) else { throw StorageError(.corrupted, "column \(i) is NULL where bytes are required") }
        return v
    }
    public func instant(_ i: Int) throws -> Date { Date(storageMilliseconds: try requiredInteger(i)) }
    public func optionalInstant(_ i: Int) throws -> Date? { try integer(i).map(Date.init(storageMilliseconds:)) }
    /// A list stored by ``SQLValue/lines(_:)``.
    public func lines(_ i: Int) throws -> [String] {
        let text = try requiredText(i)
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// A record stored as one row of one table: its columns in a fixed order, written as ``values`` and read back by
/// index. The mapping lives here, once, for every SQL backend.
public protocol StoredRow: Sendable {
    static var table: String { get }
    static var columns: [String] { get }
    var values: [SQLValue] { get }
    init(row: some SQLRowReading) throws
}

extension TrustedCARecord: StoredRow {
    public static let table = "trusted_ca"
    public static let columns = ["id", "name", "certificate", "policy", "added_at"]
    public var values: [SQLValue] { [.text(id), .text(name), .blob(certificateDER), .blob(policyJSON), .instant(addedAt)] }
    public init(row: some SQLRowReading) throws {
        self.init(id: try row.requiredText(0), name: try row.requiredText(1), certificateDER: try row.requiredBlob(2), policyJSON: try row.requiredBlob(3),
                  addedAt: try row.instant(4))
    }
}

extension AuditRecord: StoredRow {
    public static let table = "audit_log"
    public static let columns = ["sequence", "time", "kind", "payload", "previous_hash", "hash"]
    public var values: [SQLValue] { [.integer(sequence), .instant(time), .text(kind), .blob(payload), .text(previousHash), .text(hash)] }
    public init(row: some SQLRowReading) throws {
        self.init(sequence: try row.requiredInteger(0), time: try row.instant(1), kind: try row.requiredText(2), payload: try row.requiredBlob(3),
                  previousHash: try row.requiredText(4), hash: try row.requiredText(5))
    }
}

extension RegistrationRecord: StoredRow {
    public static let table = "registration"
    public static let columns = ["kind", "id", "json", "created_at", "updated_at", "version"]
    public var values: [SQLValue] { [.text(kind), .text(id), .blob(json), .instant(createdAt), .instant(updatedAt), .integer(Int64(version))] }
    public init(row: some SQLRowReading) throws {
        self.init(kind: try row.requiredText(0), id: try row.requiredText(1), json: try row.requiredBlob(2), createdAt: try row.instant(3),
                  updatedAt: try row.instant(4), version: Int(try row.requiredInteger(5)))
    }
}

extension SigningKeyRecord: StoredRow {
    public static let table = "signing_key"
    public static let columns = ["id", "use", "algorithm", "private_key", "certificate", "state", "created_at", "remove_after", "version"]
    public var values: [SQLValue] {
        [.text(id), .text(use), .text(algorithm), .text(privateKeyPEM), .text(certificatePEM), .text(state.rawValue), .instant(createdAt),
         .instant(removeAfter), .integer(Int64(version))]
    }
    public init(row: some SQLRowReading) throws {
        // An unknown state reads as retired: such a key never signs.
        self.init(id: try row.requiredText(0), use: try row.requiredText(1), algorithm: try row.requiredText(2), privateKeyPEM: try row.requiredText(3),
                  certificatePEM: try row.text(4), state: State(rawValue: try row.requiredText(5)) ?? .retired, createdAt: try row.instant(6),
                  removeAfter: try row.optionalInstant(7), version: Int(try row.requiredInteger(8)))
    }
}

extension GatewaySecretRecord: StoredRow {
    public static let table = "gateway_secret"
    public static let columns = ["name", "value", "created_at"]
    public var values: [SQLValue] { [.text(name), .blob(value), .instant(createdAt)] }
    public init(row: some SQLRowReading) throws {
        self.init(name: try row.requiredText(0), value: try row.requiredBlob(1), createdAt: try row.instant(2))
    }
}

extension CitizenRecord {
    /// ``StorageMigrations/citizenColumns``' values; all NULL for no citizen.
    public static func values(_ c: CitizenRecord?) -> [SQLValue] {
        [.text(c?.fiscalNumber), .text(c?.codiceFiscale), .text(c?.name), .text(c?.familyName), .text(c?.dateOfBirth), .text(c?.gender),
         .text(c?.birthPlace), .text(c?.birthPlaceName), .text(c?.birthProvince), .text(c?.cardID)]
    }

    /// The citizen whose columns start at `i`, when the row has one.
    public static func read(_ row: some SQLRowReading, at i: Int) throws -> CitizenRecord? {
        guard let fiscalNumber = try row.text(i), let codiceFiscale = try row.text(i + 1), let dateOfBirth = try row.text(i + 4),
              let gender = try row.text(i + 5), let birthPlace = try row.text(i + 6) else { return nil }
        return CitizenRecord(fiscalNumber: fiscalNumber, codiceFiscale: codiceFiscale, name: try row.text(i + 2), familyName: try row.text(i + 3),
                             dateOfBirth: dateOfBirth, gender: gender, birthPlace: birthPlace, birthPlaceName: try row.text(i + 7),
                             birthProvince: try row.text(i + 8), cardID: try row.text(i + 9))
    }
}

extension PendingLoginRecord: StoredRow {
    public static let table = "pending_login"
    public static let cardColumns = ["card_fingerprint", "card_decided_at", "card_refusal", "card_level", "card_session_id"] + StorageMigrations.citizenColumns
    public static let columns = ["id", "requester", "requested_level", "comparison", "attributes", "force_fresh", "return_path", "state", "created_at",
                                 "expires_at", "version", "browser_binding", "consent_token", "continuation_hash"] + cardColumns
    public var values: [SQLValue] {
        [.text(id), .text(requester), .text(requestedLevel), .text(comparison), .lines(attributes), .boolean(forceFresh), .text(returnPath),
         .text(state.rawValue), .instant(createdAt), .instant(expiresAt), .integer(Int64(version)), .text(browserBinding), .text(consentToken),
         .text(continuationHash), .text(card?.certificateFingerprint), .instant(card?.decidedAt), .text(card?.refusal), .text(card?.level),
         .text(card?.sessionID)] + CitizenRecord.values(card?.citizen)
    }
    public init(row: some SQLRowReading) throws {
        var card: CardOutcomeRecord?
        if let fingerprint = try row.text(14), let decidedAt = try row.optionalInstant(15) {
            card = CardOutcomeRecord(certificateFingerprint: fingerprint, decidedAt: decidedAt, refusal: try row.text(16), level: try row.text(17),
                                     citizen: try CitizenRecord.read(row, at: 19), sessionID: try row.text(18))
        }
        // An unknown state reads as failed: such a login never completes.
        self.init(id: try row.requiredText(0), requester: try row.requiredText(1), requestedLevel: try row.requiredText(2), comparison: try row.requiredText(3),
                  attributes: try row.lines(4), forceFresh: try row.requiredBoolean(5), returnPath: try row.requiredText(6),
                  state: State(rawValue: try row.requiredText(7)) ?? .failed, card: card, createdAt: try row.instant(8), expiresAt: try row.instant(9),
                  version: Int(try row.requiredInteger(10)), browserBinding: try row.text(11), consentToken: try row.text(12), continuationHash: try row.text(13))
    }
}

extension SessionRecord: StoredRow {
    public static let table = "sso_session"
    public static let columns = ["id", "certificate_fingerprint", "level", "authenticated_at", "expires_at", "participants", "version"]
        + StorageMigrations.citizenColumns
    public var values: [SQLValue] {
        [.text(id), .text(certificateFingerprint), .text(level), .instant(authenticatedAt), .instant(expiresAt), .lines(participants),
         .integer(Int64(version))] + CitizenRecord.values(citizen)
    }
    public init(row: some SQLRowReading) throws {
        guard let citizen = try CitizenRecord.read(row, at: 7) else { throw StorageError(.corrupted, "a session without its citizen") }
        self.init(id: try row.requiredText(0), certificateFingerprint: try row.requiredText(1), level: try row.requiredText(2), citizen: citizen,
                  authenticatedAt: try row.instant(3), expiresAt: try row.instant(4), participants: try row.lines(5), version: Int(try row.requiredInteger(6)))
    }
}
