import Crypto
import Foundation

/// Builds the tokens of a grant: ID token (OIDC Core §2), JWT access token (RFC 9068), opaque refresh tokens.
public struct TokenIssuer: Sendable {
    public let provider: ProviderConfiguration

    public init(provider: ProviderConfiguration) {
        self.provider = provider
    }

    public static func randomToken() -> String { SymmetricKey(size: .bits256).withUnsafeBytes { Base64URL.encode(Data($0)) } }
    public static func randomID() -> String { UUID().uuidString.lowercased() }

    /// An access token for the grant: `typ: at+jwt`, audience the userinfo endpoint, `cnsgw_grant` naming the grant.
    public func accessToken(_ grant: AuthorizationGrant, key: JWSSigningKey, now: Date) throws -> String {
        let t = Int64(now.timeIntervalSince1970)
        return try key.sign([
            "iss": .string(provider.issuer), "sub": .string(grant.subject), "aud": .string(provider.userinfoEndpoint),
            "client_id": .string(grant.clientID), "iat": .integer(t), "exp": .integer(t + Int64(provider.accessTokenLifetime)),
            "jti": .string(Self.randomID()), "scope": .string(grant.scopes.joined(separator: " ")),
            "auth_time": .integer(Int64(grant.authTime.timeIntervalSince1970)), "acr": .string(grant.level.uri),
            "cnsgw_grant": .string(grant.grantID),
        ], type: "at+jwt")
    }

    /// The ID token; `accessToken` gives `at_hash`.
    public func idToken(_ grant: AuthorizationGrant, accessToken: String, key: JWSSigningKey, now: Date) throws -> String {
        let t = Int64(now.timeIntervalSince1970)
        var claims: JSONObject = grant.released.values(grant.idTokenClaims)
        claims["iss"] = .string(provider.issuer)
        claims["sub"] = .string(grant.subject)
        claims["aud"] = .string(grant.clientID)
        claims["azp"] = .string(grant.clientID)
        claims["iat"] = .integer(t)
        claims["exp"] = .integer(t + Int64(provider.idTokenLifetime))
        claims["auth_time"] = .integer(Int64(grant.authTime.timeIntervalSince1970))
        claims["acr"] = .string(grant.level.uri)
        claims["jti"] = .string(Self.randomID())
        claims["at_hash"] = .string(Self.halfHash(accessToken))
        if let nonce = grant.nonce { claims["nonce"] = .string(nonce) }
        if let sid = grant.sessionID { claims["sid"] = .string(Self.sessionIdentifier(sid)) }
        return try key.sign(claims, type: "JWT")
    }

    /// The userinfo claims of a grant (`sub` first, then what was consented).
    public func userinfo(_ grant: AuthorizationGrant, now: Date) -> JSONObject {
        var claims = grant.released.values(grant.userinfoClaims)
        claims["sub"] = .string(grant.subject)
        return claims
    }

    /// Userinfo as a signed JWT (SPID profile): `iss`, `aud` = client, `iat`, `exp` beside the claims.
    public func signedUserinfo(_ grant: AuthorizationGrant, key: JWSSigningKey, now: Date) throws -> String {
        var claims = userinfo(grant, now: now)
        let t = Int64(now.timeIntervalSince1970)
        claims["iss"] = .string(provider.issuer)
        claims["aud"] = .string(grant.clientID)
        claims["iat"] = .integer(t)
        claims["exp"] = .integer(t + Int64(provider.accessTokenLifetime))
        return try key.sign(claims, type: "JWT")
    }

    /// A back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).
    public func logoutToken(clientID: String, subject: String, sessionID: String?, key: JWSSigningKey, now: Date) throws -> String {
        let t = Int64(now.timeIntervalSince1970)
        var claims: JSONObject = [
            "iss": .string(provider.issuer), "aud": .string(clientID), "iat": .integer(t), "exp": .integer(t + 120),
            "jti": .string(Self.randomID()), "sub": .string(subject),
            "events": .object(["http://schemas.openid.net/event/backchannel-logout": .object([:])]),
        ]
        if let sessionID { claims["sid"] = .string(Self.sessionIdentifier(sessionID)) }
        return try key.sign(claims, type: "logout+jwt")
    }

    /// The `sid` clients see: not the session's storage key (the cookie's hash), a hash of it.
    public static func sessionIdentifier(_ sessionID: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data(("sid\n" + sessionID).utf8))).prefix(16))
    }

    /// `at_hash` (OIDC Core §3.1.3.6) for the SHA-256 algorithms.
    public static func halfHash(_ token: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data(token.utf8))).prefix(16))
    }
}
