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
    /// How long a login is kept after it expires, so the browser that started it can still come back and its service
    /// be told it timed out (SPID nr21); housekeeping removes it after that.
    public static let keptAfterExpiry: TimeInterval = 1800
    /// When housekeeping may remove this login: ``keptAfterExpiry`` after it expires.
    public var keptUntil: Date { expiresAt + Self.keptAfterExpiry }

    /// This record as an update stores it over `current`: the next version, with the start and expiry kept as stored.
    /// An update that would change the ID is a `.conflict`.
    public func stored(over current: PendingLoginRecord) throws -> PendingLoginRecord {
        guard id == current.id else { throw StorageError(.conflict, "an update cannot change a pending login's id") }
        var next = self
        next.version = current.version + 1
        next.createdAt = current.createdAt
        next.expiresAt = current.expiresAt
        return next
    }

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
    /// The card decision once known.
    public var card: CardOutcomeRecord?
    public var createdAt: Date
    public var expiresAt: Date
    /// Incremented by every update: the compare-and-swap token.
    public var version: Int
    /// Hex SHA-256 of the secret the front end set in the browser that started the login (its binding cookie): only
    /// that browser can finish the login.
    public var browserBinding: String?
    /// The anti-forgery token of the consent form, made at the card step and checked with the consent.
    public var consentToken: String?
    /// Hex SHA-256 of the secret the card listener gave the consenting browser in its redirect back to the front end.
    public var continuationHash: String?

    public init(id: String, requester: String, requestedLevel: String, comparison: String, attributes: [String], forceFresh: Bool,
                returnPath: String, state: State = .awaitingCard, card: CardOutcomeRecord? = nil, createdAt: Date, expiresAt: Date, version: Int = 0,
                browserBinding: String? = nil, consentToken: String? = nil, continuationHash: String? = nil) {
        self.browserBinding = browserBinding
        self.consentToken = consentToken
        self.continuationHash = continuationHash
        self.id = id
        self.requester = requester
        self.requestedLevel = requestedLevel
        self.comparison = comparison
        self.attributes = attributes
        self.forceFresh = forceFresh
        self.returnPath = returnPath
        self.state = state
        self.card = card
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
    public var sessions: Int
    /// Expired front-end requests, SAML NameIDs and logout state.
    public var frontEndRecords: Int
    public var signingKeys: Int
    /// Expired OAuth grants, with their tokens and session identifiers.
    public var grants: Int
    public init(pendingLogins: Int = 0, replayEntries: Int = 0, auditRecords: Int = 0, sessions: Int = 0, frontEndRecords: Int = 0, signingKeys: Int = 0,
                grants: Int = 0) {
        self.grants = grants
        self.pendingLogins = pendingLogins
        self.replayEntries = replayEntries
        self.auditRecords = auditRecords
        self.sessions = sessions
        self.frontEndRecords = frontEndRecords
        self.signingKeys = signingKeys
    }

    public var total: Int { pendingLogins + replayEntries + auditRecords + sessions + frontEndRecords + signingKeys + grants }
}

/// A single-sign-on session: the card login it stands for, bound to that card's certificate.
public struct SessionRecord: Sendable, Hashable, Codable {
    /// Lowercase hex SHA-256 of the cookie's secret: the database never holds a usable cookie.
    public var id: String
    /// Lowercase hex SHA-256 of the card certificate the session was opened with; only that card continues it.
    public var certificateFingerprint: String
    /// The SPID level the card reached.
    public var level: String
    /// The citizen the card that opened the session identified.
    public var citizen: CitizenRecord
    public var authenticatedAt: Date
    public var expiresAt: Date
    /// The requesters (SAML SPs, OIDC clients) that received an assertion in this session, for single logout.
    public var participants: [String]
    /// Incremented by every update: the compare-and-swap token.
    public var version: Int

    public init(id: String, certificateFingerprint: String, level: String, citizen: CitizenRecord, authenticatedAt: Date, expiresAt: Date,
                participants: [String] = [], version: Int = 0) {
        self.id = id
        self.certificateFingerprint = certificateFingerprint
        self.level = level
        self.citizen = citizen
        self.authenticatedAt = authenticatedAt
        self.expiresAt = expiresAt
        self.participants = participants
        self.version = version
    }
}

/// A registered relying party: a SAML service provider (`saml-sp`) or an OIDC client (`oidc-client`). The
/// registration itself is the front end's JSON, opaque to storage.
public struct RegistrationRecord: Sendable, Hashable, Codable {
    public var kind: String
    /// Entity ID or client ID.
    public var id: String
    public var json: Data
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(kind: String, id: String, json: Data, createdAt: Date, updatedAt: Date, version: Int = 0) {
        self.kind = kind
        self.id = id
        self.json = json
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// A key the gateway signs with (SAML assertions and metadata, OIDC tokens), with its rollover state.
public struct SigningKeyRecord: Sendable, Hashable, Codable {
    /// Every use a gateway key has: SAML signing, OIDC token signing, OIDC decryption (of encrypted request objects),
    /// OpenID Federation statements.
    public static let uses = ["saml", "oidc", "oidc-encryption", "federation"]

    public enum State: String, Sendable, Hashable, Codable {
        /// Published (metadata, JWKS) but not signing yet.
        case next
        /// Signing.
        case active
        /// No longer signing; published until what it signed has expired.
        case retired
    }

    /// Key ID (`kid`): stable and unique.
    public var id: String
    /// `saml` or `oidc`.
    public var use: String
    /// `RS256`, `ES256`.
    public var algorithm: String
    /// PKCS#8 PEM private key, or that key sealed (``sealedPrefix``) by the storage's key protection.
    public var privateKeyPEM: String
    /// How a sealed private key starts. An update may change a key's material only from the clear to this form.
    public static let sealedPrefix = "cnsgw-sealed:"

    /// Whether an update from `old` to `new` only seals a key stored in the clear.
    public static func isSealing(from old: String, to new: String) -> Bool { !old.hasPrefix(sealedPrefix) && new.hasPrefix(sealedPrefix) }
    /// The self-signed certificate published in SAML metadata, PEM; nil where none is needed.
    public var certificatePEM: String?
    public var state: State
    public var createdAt: Date
    /// When it may be removed (retired keys); nil while in use.
    public var removeAfter: Date?
    public var version: Int

    public init(id: String, use: String, algorithm: String, privateKeyPEM: String, certificatePEM: String? = nil, state: State,
                createdAt: Date, removeAfter: Date? = nil, version: Int = 0) {
        self.id = id
        self.use = use
        self.algorithm = algorithm
        self.privateKeyPEM = privateKeyPEM
        self.certificatePEM = certificatePEM
        self.state = state
        self.createdAt = createdAt
        self.removeAfter = removeAfter
        self.version = version
    }
}

/// A secret of the gateway itself, shared by every instance (the pairwise-subject key): made once, by whichever
/// instance comes first, and never changed.
public struct GatewaySecretRecord: Sendable, Hashable {
    public var name: String
    /// The secret's bytes, or those bytes sealed (``SigningKeyRecord/sealedPrefix``, UTF-8) by the storage's key protection.
    public var value: Data
    public var createdAt: Date

    public init(name: String, value: Data, createdAt: Date) {
        self.name = name
        self.value = value
        self.createdAt = createdAt
    }
}

/// The citizen a card identified, one column each.
public struct CitizenRecord: Sendable, Hashable, Codable {
    public var fiscalNumber: String
    public var codiceFiscale: String
    public var name: String?
    public var familyName: String?
    public var dateOfBirth: String
    public var gender: String
    public var birthPlace: String
    public var birthPlaceName: String?
    public var birthProvince: String?
    public var cardID: String?

    public init(fiscalNumber: String, codiceFiscale: String, name: String?, familyName: String?, dateOfBirth: String, gender: String, birthPlace: String,
                birthPlaceName: String?, birthProvince: String?, cardID: String?) {
        self.fiscalNumber = fiscalNumber
        self.codiceFiscale = codiceFiscale
        self.name = name
        self.familyName = familyName
        self.dateOfBirth = dateOfBirth
        self.gender = gender
        self.birthPlace = birthPlace
        self.birthPlaceName = birthPlaceName
        self.birthProvince = birthProvince
        self.cardID = cardID
    }
}

/// What the card step decided for a pending login: the card, when, and the citizen and level or why not.
public struct CardOutcomeRecord: Sendable, Hashable, Codable {
    public var certificateFingerprint: String
    public var decidedAt: Date
    /// Why the card was refused; nil when it was accepted.
    public var refusal: String?
    public var level: String?
    public var citizen: CitizenRecord?
    /// The single-sign-on session the login opened or continued.
    public var sessionID: String?

    public init(certificateFingerprint: String, decidedAt: Date, refusal: String?, level: String?, citizen: CitizenRecord?, sessionID: String?) {
        self.certificateFingerprint = certificateFingerprint
        self.decidedAt = decidedAt
        self.refusal = refusal
        self.level = level
        self.citizen = citizen
        self.sessionID = sessionID
    }
}
