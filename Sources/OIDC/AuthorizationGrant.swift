import Foundation
import LoginOutcome

/// What an authorization code (and the tokens issued from it) stands for: who logged in, to which client, with
/// what consent. Stored by the engine's ``OIDCStore`` beside its code and refresh tokens.
public struct AuthorizationGrant: Sendable, Hashable {
    /// Identifies the grant in every token issued from it, so a replayed code or a revocation ends them all.
    public var grantID: String
    public var clientID: String
    public var redirectURI: String
    public var codeChallenge: String?
    public var nonce: String?
    public var scopes: [String]
    public var level: SpidLevel
    public var authTime: Date
    public var subject: String
    /// The single-sign-on session the login opened or continued (its storage id), if any; clients see it as `sid`.
    public var sessionID: String?
    /// The consented claims: for userinfo, and for the ID token (plain clients that asked).
    public var userinfoClaims: [String]
    public var idTokenClaims: [String]
    /// The values of exactly those claims, nothing more (what the citizen consented to release).
    public var released: ReleasedClaims
    /// How long the grant (and its refresh tokens) lives.
    public var expiresAt: Date

    public var offlineAccess: Bool { scopes.contains("offline_access") }

    public init(grantID: String, clientID: String, redirectURI: String, codeChallenge: String?, nonce: String?, scopes: [String], level: SpidLevel,
                authTime: Date, subject: String, sessionID: String?, userinfoClaims: [String], idTokenClaims: [String], released: ReleasedClaims,
                expiresAt: Date) {
        self.grantID = grantID
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
    }
}
