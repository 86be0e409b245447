import CNSValidation
import Foundation

/// A finished card login as the OIDC engine needs it to issue a code.
public struct AuthenticatedLogin: Sendable, Hashable {
    public var identity: VerificationReport.Identity
    public var level: SpidLevel
    /// When the citizen authenticated with the card (`auth_time`).
    public var authenticatedAt: Date
    /// The single-sign-on session the login opened or continued, with its end.
    public var sessionID: String?
    public var sessionExpiresAt: Date?

    public init(identity: VerificationReport.Identity, level: SpidLevel, authenticatedAt: Date, sessionID: String? = nil, sessionExpiresAt: Date? = nil) {
        self.identity = identity
        self.level = level
        self.authenticatedAt = authenticatedAt
        self.sessionID = sessionID
        self.sessionExpiresAt = sessionExpiresAt
    }
}

extension TokenEngine {
    /// The authorization code for a login the citizen finished and consented to: a grant holding exactly the consented
    /// claims' values, stored with the code's hash; `auditFields` (the login, the address) join its audit record. The session's `sid` is recorded for RP-initiated logout.
    public func issueCode(for request: ValidatedAuthorization, client: ClientRegistration, login: AuthenticatedLogin,
                          subjects: SubjectIdentifiers, auditFields: [String: String] = [:], now: Date) async throws -> (code: String, grant: AuthorizationGrant) {
        let lifetime = request.scopes.contains("offline_access") ? provider.refreshTokenLifetime
                                                                 : provider.authorizationCodeLifetime + provider.accessTokenLifetime
        let grant = AuthorizationGrant(grantID: tokens.newID(), clientID: client.clientID, redirectURI: request.redirectURI,
                                       codeChallenge: request.codeChallenge, nonce: request.nonce, scopes: request.scopes, level: login.level,
                                       authTime: login.authenticatedAt, subject: subjects.subject(codiceFiscale: login.identity.codiceFiscale, for: client),
                                       sessionID: login.sessionID, userinfoClaims: request.userinfoClaims, idTokenClaims: request.idTokenClaims,
                                       released: ReleasedClaims(request.userinfoClaims + request.idTokenClaims, identity: login.identity),
                                       expiresAt: now + lifetime)
        let code = tokens.newToken()
        try await store.createGrant(grant, codeHash: Self.hash(code), codeExpiresAt: now + provider.authorizationCodeLifetime)
        if let sessionID = login.sessionID, let expiresAt = login.sessionExpiresAt {
            try await store.recordSessionIdentifier(TokenIssuer.sessionIdentifier(sessionID), sessionID: sessionID, expiresAt: expiresAt)
        }
        try await store.audit(auditFields.merging(["result": "code_issued", "client": client.clientID, "grant": grant.grantID, "level": login.level.rawValue,
                                                   "claims": Set(grant.userinfoClaims).sorted().joined(separator: ",")]) { _, engine in engine })
        return (code, grant)
    }
}
