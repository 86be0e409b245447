import Foundation

/// A CA an admin trusts, with its policy as the JSON of `CNSValidation.AnchorPolicy` (kept opaque here so that
/// storage does not depend on the validation library).
public struct TrustedCARecord: Sendable, Hashable, Codable {
    /// Lowercase hex SHA-256 of the certificate's DER: stable across re-imports.
    public var id: String
    public var name: String
    public var certificateDER: Data
    public var policyJSON: Data
    public var addedAt: Date

    public init(id: String, name: String, certificateDER: Data, policyJSON: Data, addedAt: Date) {
        self.id = id
        self.name = name
        self.certificateDER = certificateDER
        self.policyJSON = policyJSON
        self.addedAt = addedAt
    }
}

/// A login a protocol front end started and the card flow has not finished yet.
public struct PendingLoginRecord: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case awaitingCard = "awaiting_card"
        case awaitingConsent = "awaiting_consent"
        case completed
        case failed
    }

    public var id: String
    /// The front end's requester (SAML SP entity ID or OIDC client ID).
    public var requester: String
    public var requestedLevel: String
    /// `exact`, `minimum`, `better` or `maximum`.
    public var comparison: String
    public var attributes: [String]
    public var forceFresh: Bool
    public var returnPath: String
    public var state: State
    /// The card decision once known (the JSON of `VerificationReport`).
    public var outcomeJSON: Data?
    public var createdAt: Date
    public var expiresAt: Date
    /// Incremented by every update: the compare-and-swap token.
    public var version: Int

    public init(id: String, requester: String, requestedLevel: String, comparison: String, attributes: [String], forceFresh: Bool,
                returnPath: String, state: State = .awaitingCard, outcomeJSON: Data? = nil, createdAt: Date, expiresAt: Date, version: Int = 0) {
        self.id = id
        self.requester = requester
        self.requestedLevel = requestedLevel
        self.comparison = comparison
        self.attributes = attributes
        self.forceFresh = forceFresh
        self.returnPath = returnPath
        self.state = state
        self.outcomeJSON = outcomeJSON
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.version = version
    }
}

/// One entry of the append-only audit log. `hash` chains it to the entry before it (see GatewayAudit).
public struct AuditRecord: Sendable, Hashable, Codable {
    /// 1, 2, 3, ... without gaps.
    public var sequence: Int64
    public var time: Date
    /// `login`, `admin`, ...
    public var kind: String
    /// The event's fields as canonical JSON (sorted keys).
    public var payload: Data
    /// Hex SHA-256 of the previous record's hash and this record's fields; `previousHash` of the first is empty.
    public var previousHash: String
    public var hash: String

    public init(sequence: Int64, time: Date, kind: String, payload: Data, previousHash: String, hash: String) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.payload = payload
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// What a garbage collection removed.
public struct GarbageCollectionResult: Sendable, Hashable {
    public var pendingLogins: Int
    public var replayEntries: Int
    public var auditRecords: Int
    public init(pendingLogins: Int = 0, replayEntries: Int = 0, auditRecords: Int = 0) {
        self.pendingLogins = pendingLogins
        self.replayEntries = replayEntries
        self.auditRecords = auditRecords
    }
}
