import Foundation

/// What a protocol front end asks of the card step when it starts a login.
public struct LoginStart: Sendable, Hashable {
    /// The SAML SP's entity ID or the OIDC client's ID.
    public let requester: String
    public let level: SpidLevel
    public let comparison: LevelComparison
    /// The attributes the consent page lists.
    public let attributes: [String]
    /// The card must be presented again (no single-sign-on session).
    public let forceFresh: Bool

    public init(requester: String, level: SpidLevel, comparison: LevelComparison, attributes: [String], forceFresh: Bool) {
        self.requester = requester
        self.level = level
        self.comparison = comparison
        self.attributes = attributes
        self.forceFresh = forceFresh
    }
}

/// A login the gateway started for a front end.
public struct StartedLogin: Sendable, Hashable {
    public let id: String
    public let expiresAt: Date
    /// Until when the login is kept after it expires, so a browser that comes back late is answered "timed out":
    /// what the front end stores about the request must last as long.
    public let keptUntil: Date
    public init(id: String, expiresAt: Date, keptUntil: Date? = nil) {
        self.id = id
        self.expiresAt = expiresAt
        self.keptUntil = keptUntil ?? expiresAt
    }
}

/// How a login ended, as a front end answers its requester.
public enum LoginResult: Sendable, Hashable {
    case authenticated(AuthenticatedLogin)
    case ended(LoginEnding)
}

/// A finished card login the citizen consented to.
public struct AuthenticatedLogin: Sendable, Hashable {
    public var citizen: AuthenticatedCitizen
    public var level: SpidLevel
    /// When the citizen authenticated with the card (SAML `AuthnInstant`, OIDC `auth_time`).
    public var authenticatedAt: Date
    /// The single-sign-on session the login opened or continued, and when it ends.
    public var sessionID: String?
    public var sessionExpiresAt: Date?

    public init(citizen: AuthenticatedCitizen, level: SpidLevel, authenticatedAt: Date, sessionID: String? = nil, sessionExpiresAt: Date? = nil) {
        self.citizen = citizen
        self.level = level
        self.authenticatedAt = authenticatedAt
        self.sessionID = sessionID
        self.sessionExpiresAt = sessionExpiresAt
    }
}
