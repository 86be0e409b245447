import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import LoginOutcome
import OIDC

/// The OIDC engine's store over the gateway's storage: grants and their tokens as typed records, the replay caches,
/// and the audit log.
public struct GatewayOIDCStore: OIDCStore {
    let storage: any GatewayStorage
    let audit: AuditLog

    public init(storage: any GatewayStorage, audit: AuditLog) {
        self.storage = storage
        self.audit = audit
    }

    public func storeAuthorization(_ r: ValidatedAuthorization, loginID: String, expiresAt: Date) async throws {
        try await storage.storeOIDCAuthorization(OIDCAuthorizationRecord(
            loginID: loginID, clientID: r.clientID, redirectURI: r.redirectURI, state: r.state, nonce: r.nonce, scopes: r.scopes,
            codeChallenge: r.codeChallenge, level: r.level.rawValue, forceFresh: r.forceFresh, maxAge: r.maxAge, userinfoClaims: r.userinfoClaims,
            idTokenClaims: r.idTokenClaims, uiLocale: r.uiLocale, expiresAt: expiresAt))
    }

    public func takeAuthorization(loginID: String, now: Date) async throws -> ValidatedAuthorization? {
        guard let r = try await storage.takeOIDCAuthorization(loginID: loginID, now: now), let level = SpidLevel(rawValue: r.level) else { return nil }
        return ValidatedAuthorization(clientID: r.clientID, redirectURI: r.redirectURI, state: r.state, nonce: r.nonce, scopes: r.scopes,
                                      codeChallenge: r.codeChallenge, level: level, forceFresh: r.forceFresh, maxAge: r.maxAge,
                                      userinfoClaims: r.userinfoClaims, idTokenClaims: r.idTokenClaims, uiLocale: r.uiLocale,
                                      requestObjectID: nil, requestObjectExpiry: nil)
    }

    public func createGrant(_ grant: AuthorizationGrant, codeHash: String, codeExpiresAt: Date) async throws {
        try await storage.createGrant(Self.record(grant), code: OAuthTokenRecord(kind: .authorizationCode, id: codeHash, grantID: grant.grantID,
                                                                                 expiresAt: codeExpiresAt))
    }

    public func redeem(_ kind: GrantTokenKind, hash: String, now: Date) async throws -> GrantTokenRedemption {
        switch try await storage.redeemGrantToken(Self.kind(kind), id: hash, now: now) {
        case .notFound: .notFound
        case .replayed(let grantID): .replayed(grantID: grantID)
        case .redeemed(let grantID, let record): .redeemed(grantID: grantID, grant: record.flatMap(Self.grant))
        }
    }

    public func storeRefreshToken(hash: String, grantID: String, expiresAt: Date) async throws {
        try await storage.storeGrantToken(OAuthTokenRecord(kind: .refreshToken, id: hash, grantID: grantID, expiresAt: expiresAt))
    }

    public func liveGrant(id: String, now: Date) async throws -> AuthorizationGrant? {
        guard let record = try await storage.grant(id: id, now: now), record.revokedAt == nil else { return nil }
        return Self.grant(record)
    }

    public func liveGrant(refreshTokenHash: String, now: Date) async throws -> AuthorizationGrant? {
        guard let token = try await storage.grantToken(.refreshToken, id: refreshTokenHash, now: now), token.spentAt == nil else { return nil }
        return try await liveGrant(id: token.grantID, now: now)
    }

    public func revokeGrant(id: String, now: Date) async throws -> Bool { try await storage.revokeGrant(id: id, now: now) }

    public func rememberOnce(_ cache: OIDCReplayCache, key: String, now: Date, expiresAt: Date) async throws -> Bool {
        try await storage.rememberOnce(namespace: cache.rawValue, key: key, now: now, expiresAt: expiresAt)
    }

    public func recordSessionIdentifier(_ sid: String, sessionID: String, expiresAt: Date) async throws {
        try await storage.recordSessionIdentifier(sid, sessionID: sessionID, expiresAt: expiresAt)
    }

    public func sessionID(named sid: String, now: Date) async throws -> String? { try await storage.sessionID(forSessionIdentifier: sid, now: now) }

    public func audit(_ fields: [String: String]) async throws { try await audit.append(kind: "oidc", fields: fields) }

    static func kind(_ kind: GrantTokenKind) -> OAuthTokenRecord.Kind {
        switch kind {
        case .authorizationCode: .authorizationCode
        case .refreshToken: .refreshToken
        }
    }

    static func record(_ g: AuthorizationGrant) -> OAuthGrantRecord {
        let r = g.released
        return OAuthGrantRecord(id: g.grantID, clientID: g.clientID, redirectURI: g.redirectURI, codeChallenge: g.codeChallenge, nonce: g.nonce,
                                scopes: g.scopes, level: g.level.rawValue, authTime: g.authTime, subject: g.subject, sessionID: g.sessionID,
                                userinfoClaims: g.userinfoClaims, idTokenClaims: g.idTokenClaims,
                                released: ReleasedAttributes(fiscalNumber: r.fiscalNumber, givenName: r.givenName, familyName: r.familyName,
                                                             birthdate: r.birthdate, gender: r.gender, birthPlace: r.birthPlace, birthProvince: r.birthProvince),
                                expiresAt: g.expiresAt)
    }

    /// The engine's grant; nil for a record whose level this version does not know (never issued by it).
    static func grant(_ g: OAuthGrantRecord) -> AuthorizationGrant? {
        guard let level = SpidLevel(rawValue: g.level) else { return nil }
        let r = g.released
        return AuthorizationGrant(grantID: g.id, clientID: g.clientID, redirectURI: g.redirectURI, codeChallenge: g.codeChallenge, nonce: g.nonce,
                                  scopes: g.scopes, level: level, authTime: g.authTime, subject: g.subject, sessionID: g.sessionID,
                                  userinfoClaims: g.userinfoClaims, idTokenClaims: g.idTokenClaims,
                                  released: ReleasedClaims(fiscalNumber: r.fiscalNumber, givenName: r.givenName, familyName: r.familyName,
                                                           birthdate: r.birthdate, gender: r.gender, birthPlace: r.birthPlace, birthProvince: r.birthProvince),
                                  expiresAt: g.expiresAt)
    }
}
