import Foundation

/// An OAuth/OIDC grant: what an authorization code and the tokens issued from it stand for.
public struct OAuthGrantRecord: Sendable, Hashable {
    public var id: String
    public var clientID: String
    public var redirectURI: String
    public var codeChallenge: String?
    public var nonce: String?
    public var scopes: [String]
    /// `SpidL1`, `SpidL2` or `SpidL3`.
    public var level: String
    public var authTime: Date
    public var subject: String
    /// The single-sign-on session (its storage id) the login opened or continued.
    public var sessionID: String?
    /// The consented claim names, for userinfo and for the ID token.
    public var userinfoClaims: [String]
    public var idTokenClaims: [String]
    /// The consented claims' values (only those).
    public var released: ReleasedAttributes
    public var expiresAt: Date
    /// Set when the grant was revoked (by its client, or by a replayed code or refresh token).
    public var revokedAt: Date?

    public init(id: String, clientID: String, redirectURI: String, codeChallenge: String?, nonce: String?, scopes: [String], level: String, authTime: Date,
                subject: String, sessionID: String?, userinfoClaims: [String], idTokenClaims: [String], released: ReleasedAttributes, expiresAt: Date,
                revokedAt: Date? = nil) {
        self.id = id
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.nonce = nonce
        self.scopes = scopes
        self.level = level
        self.authTime = authTime
        self.subject = subject
        self.sessionID = sessionID
        self.userinfoClaims = userinfoClaims
        self.idTokenClaims = idTokenClaims
        self.released = released
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// The identity values a citizen consented to release to one client, one column each.
public struct ReleasedAttributes: Sendable, Hashable {
    public var fiscalNumber: String?
    public var givenName: String?
    public var familyName: String?
    public var birthdate: String?
    public var gender: String?
    public var birthPlace: String?
    public var birthProvince: String?

    public init(fiscalNumber: String? = nil, givenName: String? = nil, familyName: String? = nil, birthdate: String? = nil, gender: String? = nil,
                birthPlace: String? = nil, birthProvince: String? = nil) {
        self.fiscalNumber = fiscalNumber
        self.givenName = givenName
        self.familyName = familyName
        self.birthdate = birthdate
        self.gender = gender
        self.birthPlace = birthPlace
        self.birthProvince = birthProvince
    }
}

/// A single-use token of a grant, stored by its SHA-256.
public struct OAuthTokenRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case authorizationCode = "code"
        case refreshToken = "refresh"
    }

    public var kind: Kind
    /// Lowercase hex SHA-256 of the token as handed out.
    public var id: String
    public var grantID: String
    public var expiresAt: Date
    public var spentAt: Date?

    public init(kind: Kind, id: String, grantID: String, expiresAt: Date, spentAt: Date? = nil) {
        self.kind = kind
        self.id = id
        self.grantID = grantID
        self.expiresAt = expiresAt
        self.spentAt = spentAt
    }
}

/// What spending a code or refresh token found.
public enum OAuthTokenRedemption: Sendable, Hashable {
    /// First use: the token is now spent. The grant is nil when it was revoked (or has expired) meanwhile.
    case redeemed(grantID: String, grant: OAuthGrantRecord?)
    /// Spent before: a replay.
    case replayed(grantID: String)
    /// Unknown or expired.
    case notFound
}
