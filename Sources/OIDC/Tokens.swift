import Crypto
import Foundation

/// RFC 7636 with S256 only.
public enum PKCE {
    /// A verifier of 43–128 unreserved characters whose SHA-256 is the challenge; no verifier when the authorization
    /// request had no challenge (a client registered with PKCE optional).
    public static func verify(verifier: String?, challenge: String?) throws {
        guard let challenge else {
            guard verifier == nil else { throw OIDCError(.invalidGrant, reason: "pkce_unexpected", "code_verifier sent, but the authorization request had no code_challenge") }
            return
        }
        guard let verifier else { throw OIDCError(.invalidGrant, reason: "pkce_missing", "code_verifier is missing") }
        let unreserved = verifier.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E
        }
        guard (43...128).contains(verifier.utf8.count), unreserved else {
            throw OIDCError(.invalidGrant, reason: "pkce_verifier_format", "code_verifier must be 43-128 unreserved characters")
        }
        guard Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))) == challenge else {
            throw OIDCError(.invalidGrant, reason: "pkce_mismatch", "code_verifier does not match the code_challenge")
        }
    }
}

/// Subjects: pairwise per client sector (OIDC Core §8.1) or one public value across clients; both are keyed
/// hashes of the codice fiscale, so no client learns it from `sub` and none can link across sectors.
public struct SubjectIdentifiers: Sendable {
    let key: SymmetricKey

    public init(secret: Data) {
        key = SymmetricKey(data: secret)
    }

    public func subject(codiceFiscale: String, for client: ClientRegistration) -> String {
        let sector = client.subjectType == .public ? "public" : "pairwise:" + client.sector
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data((sector + "\n" + codiceFiscale).utf8), using: key)))
    }
}

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

/// Checks the gateway's own access tokens (userinfo, introspection): signed by one of its published keys, `typ`
/// `at+jwt`, issued by it for its userinfo endpoint, not expired. Whether the grant is still alive is storage's.
public struct AccessTokenVerifier: Sendable {
    public let provider: ProviderConfiguration

    public init(provider: ProviderConfiguration) {
        self.provider = provider
    }

    public func verify(_ token: String, keys: [JWSVerificationKey], now: Date) throws -> JSONObject {
        func invalid(_ reason: String, _ detail: String) -> OIDCError { OIDCError(.invalidToken, reason: reason, detail) }
        let verified: VerifiedJWS
        do {
            verified = try JWS.verify(token, keys: keys, allowed: [.rs256, .es256], purpose: "access token", error: .invalidToken)
        } catch let error as OIDCError { throw invalid(error.reason, error.detail) }
        guard verified.header.typ?.lowercased() == "at+jwt" else { throw invalid("not_access_token", "the token is not an access token (typ at+jwt)") }
        let c = verified.claims
        guard c["iss"]?.string == provider.issuer, c["aud"]?.strings?.contains(provider.userinfoEndpoint) == true else {
            throw invalid("token_audience", "the access token was not issued by this provider for its userinfo endpoint")
        }
        guard let exp = c["exp"]?.seconds, exp > now.timeIntervalSince1970 else { throw invalid("token_expired", "the access token has expired") }
        guard c["cnsgw_grant"]?.string != nil, c["client_id"]?.string != nil else { throw invalid("token_malformed", "the access token names no grant") }
        return c
    }
}
