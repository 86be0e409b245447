import Foundation

/// What the OIDC engine persists, in the engine's own terms; the gateway implements it over its storage. Tokens are
/// given by their SHA-256 (hex): a store never holds a code or refresh token that works.
public protocol OIDCStore: Sendable {
    /// The authorization request a login answers, kept until the login ends.
    func storeAuthorization(_ request: ValidatedAuthorization, loginID: String, expiresAt: Date) async throws
    /// Takes the request of a login, once: nil when it was taken before, is unknown or has expired.
    func takeAuthorization(loginID: String, now: Date) async throws -> ValidatedAuthorization?
    /// Stores a new grant and the authorization code that stands for it, together.
    func createGrant(_ grant: AuthorizationGrant, codeHash: String, codeExpiresAt: Date) async throws
    /// Spends a code or refresh token, atomically: of concurrent redemptions exactly one sees `.redeemed`.
    func redeem(_ kind: GrantTokenKind, hash: String, now: Date) async throws -> GrantTokenRedemption
    func storeRefreshToken(hash: String, grantID: String, expiresAt: Date) async throws
    /// The grant, unless it is unknown, expired or revoked.
    func liveGrant(id: String, now: Date) async throws -> AuthorizationGrant?
    /// The live grant of an unspent refresh token (looked up, not spent).
    func liveGrant(refreshTokenHash: String, now: Date) async throws -> AuthorizationGrant?
    /// Revokes a grant; false when it was unknown, expired or already revoked.
    func revokeGrant(id: String, now: Date) async throws -> Bool
    /// Records `key` until `expiresAt`; false when it was already there (a replayed client assertion or request object).
    func rememberOnce(_ cache: OIDCReplayCache, key: String, now: Date, expiresAt: Date) async throws -> Bool
    /// Remembers which single-sign-on session a `sid` names (for RP-initiated logout); a second record of one `sid` is ignored.
    func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws
    func sessionID(named sid: String, now: Date) async throws -> String?
    /// Appends an event to the audit log.
    func audit(_ fields: [String: String]) async throws
}

/// The single-use tokens of a grant.
public enum GrantTokenKind: String, Sendable, Hashable, CaseIterable {
    case authorizationCode = "code"
    case refreshToken = "refresh_token"
}

/// What spending a code or refresh token found.
public enum GrantTokenRedemption: Sendable, Hashable {
    /// First use: the token is now spent. `grant` is nil when the grant was revoked meanwhile.
    case redeemed(grantID: String, grant: AuthorizationGrant?)
    /// Spent before: a replay.
    case replayed(grantID: String)
    /// Unknown or expired.
    case notFound
}

/// The replay caches the engine keeps.
public enum OIDCReplayCache: String, Sendable, Hashable {
    case clientAssertion = "oidc-client-assertion"
    case requestObject = "oidc-request-object"
}
