import CodedErrors
import Crypto
import Foundation
import HexEncoding

/// The OIDC back channel as an engine (after ory/fosite): the token endpoint with its grant handlers, userinfo,
/// revocation (RFC 7009) and introspection (RFC 7662), and the code a finished login turns into. It reads and writes
/// only through its ``OIDCStore``, takes the clock from each call and random tokens from ``TokenSource``, and
/// answers with values or an ``OIDCError``; the HTTP side only translates.
public struct OpenIDProviderEngine: Sendable {
    public let provider: ProviderConfiguration
    public let store: any OIDCStore
    /// The registered clients by ID, as of now.
    public let clients: @Sendable () async throws -> [String: ClientRegistration]
    public let keys: @Sendable () async throws -> ProviderKeys
    /// The grant types the token endpoint accepts, by `grant_type`.
    public let handlers: [any GrantHandler]
    public let tokens: TokenSource
    /// Automatic registration through OpenID Federation; nil when the gateway is in no federation.
    public let federation: (any FederatedClientRegistrar)?

    public init(provider: ProviderConfiguration, store: any OIDCStore, clients: @escaping @Sendable () async throws -> [String: ClientRegistration],
                keys: @escaping @Sendable () async throws -> ProviderKeys,
                handlers: [any GrantHandler] = [AuthorizationCodeGrantHandler(), RefreshTokenGrantHandler()], tokens: TokenSource = .system,
                federation: (any FederatedClientRegistrar)? = nil) {
        self.federation = federation
        self.provider = provider
        self.store = store
        self.clients = clients
        self.keys = keys
        self.handlers = handlers
        self.tokens = tokens
    }

    /// The client a back-channel request authenticates as, with a client assertion accepted once.
    public func authenticate(_ form: [String: String], authorization: String?, endpoint: String, now: Date) async throws -> ClientRegistration {
        // A federation client is looked up (and its expired chain resolved again) but never newly resolved here:
        // relying parties are admitted at the authorization endpoint.
        let claimed = form["client_id"] ?? form["client_assertion"].flatMap(JWS.unverifiedClaims)?["sub"]?.string
        let clients: [String: ClientRegistration]
        do { clients = try await self.clients(resolving: claimed, mayResolve: false, now: now) } catch let error as OIDCError { throw error.delivered(.json) }
        let authenticated = try ClientAuthenticator(provider: provider) { clients[$0] }
            .authenticate(form: form, authorization: authorization, endpoint: endpoint, now: now)
        if let id = authenticated.assertionID {
            let expiry = (authenticated.assertionExpiry ?? now) + provider.clockSkew
            guard try await store.rememberOnce(.clientAssertion, key: id, now: now, expiresAt: max(expiry, now + 1)) else {
                throw OIDCError(.invalidClient, reason: "assertion_replayed", "this client assertion (jti) was already used")
            }
        }
        return authenticated.registration
    }

    /// The token endpoint: authenticates the client, lets the handler of its `grant_type` produce the grant, and
    /// issues an access token, an ID token (encrypted when the client registered so) and, for `offline_access`, a
    /// new refresh token.
    public func exchange(_ form: [String: String], authorization: String?, now: Date) async throws -> TokenResponse {
        let client = try await authenticate(form, authorization: authorization, endpoint: provider.tokenEndpoint, now: now)
        return try await attributed(to: client) { try await issueTokens(form, client: client, now: now) }
    }

    func issueTokens(_ form: [String: String], client: ClientRegistration, now: Date) async throws -> TokenResponse {
        guard let grantType = form["grant_type"] else { throw OIDCError(.invalidRequest, reason: "no_grant_type", "grant_type is missing") }
        guard let handler = handlers.first(where: { $0.grantType == grantType }) else {
            throw OIDCError(.unsupportedGrantType, reason: "grant_type", "grant_type '\(grantType)' is not supported")
        }
        let grant = try await handler.grant(for: form, client: client, engine: self, now: now)
        let keys = try await keys()
        let issuer = TokenIssuer(provider: provider)
        let accessToken = try issuer.accessToken(grant, key: keys.rs256, now: now)
        let idToken = try issuer.idToken(grant, accessToken: accessToken, key: keys.signingKey(client.idTokenSigningAlgorithm), now: now)
        var body: JSONObject = [
            "access_token": .string(accessToken), "token_type": .string("Bearer"), "expires_in": .integer(Int64(provider.accessTokenLifetime)),
            "id_token": .string(try encrypted(idToken, for: client)), "scope": .string(grant.scopes.joined(separator: " ")),
        ]
        if grant.offlineAccess {
            let refresh = tokens.newToken()
            try await store.storeRefreshToken(hash: Self.hash(refresh), grantID: grant.grantID, expiresAt: grant.expiresAt)
            body["refresh_token"] = .string(refresh)
        }
        try await store.audit(["result": "tokens_issued", "client": client.clientID, "grant": grant.grantID, "grantType": grantType,
                               "refresh": "\(grant.offlineAccess)"])
        return TokenResponse(body: body, clientID: client.clientID, grantType: grantType)
    }

    /// Spends a code or refresh token of `client`: unknown or expired is `invalid_grant`; one spent before revokes the
    /// grant it stood for (RFC 6749 §4.1.2, and refresh-token rotation); a revoked grant is `invalid_grant`.
    public func spend(_ token: String, kind: GrantTokenKind, client: ClientRegistration, now: Date) async throws -> AuthorizationGrant {
        let what = kind.rawValue
        switch try await store.redeem(kind, hash: Self.hash(token), now: now) {
        case .notFound:
            throw OIDCError(.invalidGrant, reason: "unknown_\(what)", "the \(what) is unknown or expired")
        case .replayed(let grantID):
            try await revoke(grantID: grantID, why: "\(what)_replayed", now: now)
            throw OIDCError(.invalidGrant, reason: "\(what)_replayed", "the \(what) was already used; the grant it stood for is revoked")
        case .redeemed(_, let grant):
            guard let grant else { throw OIDCError(.invalidGrant, reason: "grant_revoked", "the grant was revoked") }
            guard grant.clientID == client.clientID else { throw OIDCError(.invalidGrant, reason: "\(what)_client", "the \(what) was issued to another client") }
            return grant
        }
    }

    public func revoke(grantID: String, why: String, now: Date) async throws {
        if try await store.revokeGrant(id: grantID, now: now) {
            try await store.audit(["result": "grant_revoked", "grant": grantID, "reason": why])
        }
    }

    /// Userinfo for a Bearer access token: the consented claims as JSON, or for `spid` clients a signed (and, with a
    /// registered key, encrypted) JWT.
    public func userinfo(accessToken: String, now: Date) async throws -> UserinfoResponse {
        let keys = try await keys()
        let claims = try AccessTokenVerifier(provider: provider).verify(accessToken, keys: keys.verification, now: now)
        guard let grantID = claims["cnsgw_grant"]?.string, let grant = try await store.liveGrant(id: grantID, now: now),
              grant.clientID == claims["client_id"]?.string else {
            throw OIDCError(.invalidToken, reason: "grant_revoked", "the access token was revoked")
        }
        guard let client = try await clients(resolving: grant.clientID, mayResolve: false, now: now)[grant.clientID] else {
            throw OIDCError(.invalidToken, reason: "client_removed", "the client of this token is no longer registered")
        }
        try await store.audit(["result": "userinfo", "client": client.clientID, "grant": grant.grantID,
                               "claims": grant.userinfoClaims.sorted().joined(separator: ",")])
        let issuer = TokenIssuer(provider: provider)
        guard client.profile == .spid else { return .json(issuer.userinfo(grant, now: now)) }
        let jwt = try issuer.signedUserinfo(grant, key: keys.signingKey(client.idTokenSigningAlgorithm), now: now)
        guard let encryptionKey = client.encryptionKey else { return .jwt(jwt) }
        return .jwt(try JWE.encrypt(Data(jwt.utf8), to: encryptionKey, algorithm: client.userinfoKeyEncryption, encryption: client.userinfoEncryption))
    }

    /// RFC 7009: the grant behind an access or refresh token of the calling client ends; unknown tokens are not an error.
    public func revocation(_ form: [String: String], authorization: String?, now: Date) async throws {
        let client = try await authenticate(form, authorization: authorization, endpoint: provider.revocationEndpoint, now: now)
        try await attributed(to: client) {
            guard let token = form["token"] else { throw OIDCError(.invalidRequest, reason: "no_token", "token is missing") }
            guard let (grant, _) = try await grant(of: token, now: now) else { return }
            guard grant.clientID == client.clientID else {
                throw OIDCError(.unauthorizedClient, reason: "revoke_other_client", "the token was issued to another client")
            }
            try await revoke(grantID: grant.grantID, why: "revoked_by_client", now: now)
        }
    }

    /// RFC 7662, for the client the token was issued to; anything else is `active: false`.
    public func introspection(_ form: [String: String], authorization: String?, now: Date) async throws -> JSONObject {
        let client = try await authenticate(form, authorization: authorization, endpoint: provider.introspectionEndpoint, now: now)
        guard let token = form["token"] else {
            var error = OIDCError(.invalidRequest, reason: "no_token", "token is missing")
            error.clientID = client.clientID
            throw error
        }
        guard let (grant, accessClaims) = try await grant(of: token, now: now), grant.clientID == client.clientID else { return ["active": .bool(false)] }
        var body: JSONObject = ["active": .bool(true), "client_id": .string(grant.clientID), "sub": .string(grant.subject), "iss": .string(provider.issuer),
                                "scope": .string(grant.scopes.joined(separator: " ")), "acr": .string(grant.level.uri),
                                "auth_time": .integer(Int64(grant.authTime.timeIntervalSince1970))]
        if let claims = accessClaims {
            for name in ["exp", "iat", "jti", "aud"] { body[name] = claims[name] }
            body["token_type"] = .string("Bearer")
        } else {
            body["exp"] = .integer(Int64(grant.expiresAt.timeIntervalSince1970))
            body["token_type"] = .string("refresh_token")
        }
        return body
    }

    /// Runs `body` for an authenticated client, naming the client in any refusal it throws.
    func attributed<T>(to client: ClientRegistration, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch var error as OIDCError {
            error.clientID = client.clientID
            throw error
        }
    }

    /// The live grant of an access token (verified; its claims returned) or of an unspent refresh token (not spent).
    func grant(of token: String, now: Date) async throws -> (AuthorizationGrant, accessClaims: JSONObject?)? {
        if token.split(separator: ".").count == 3 {
            let keys = try await keys()
            guard let claims = try? AccessTokenVerifier(provider: provider).verify(token, keys: keys.verification, now: now),
                  let grantID = claims["cnsgw_grant"]?.string, let grant = try await store.liveGrant(id: grantID, now: now) else { return nil }
            return (grant, claims)
        }
        return try await store.liveGrant(refreshTokenHash: Self.hash(token), now: now).map { ($0, nil) }
    }

    /// The ID token as the client registered it: signed, or signed then encrypted to its key.
    func encrypted(_ signed: String, for client: ClientRegistration) throws -> String {
        guard client.encryptIDToken, let key = client.encryptionKey else { return signed }
        return try JWE.encrypt(Data(signed.utf8), to: key, algorithm: client.userinfoKeyEncryption, encryption: client.userinfoEncryption)
    }

    public static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}

/// The token endpoint's answer (sent with `Cache-Control: no-store`).
public struct TokenResponse: Sendable {
    public let body: JSONObject
    public let clientID: String
    public let grantType: String
}

/// Userinfo as plain JSON, or as a (signed, possibly encrypted) JWT.
public enum UserinfoResponse: Sendable {
    case json(JSONObject)
    case jwt(String)
}

/// Where the engine's random values come from (tests pass fixed ones).
public struct TokenSource: Sendable {
    /// A bearer secret (codes, refresh tokens): 256 random bits, base64url.
    public let newToken: @Sendable () -> String
    /// An identifier (grant IDs).
    public let newID: @Sendable () -> String

    public init(newToken: @escaping @Sendable () -> String, newID: @escaping @Sendable () -> String) {
        self.newToken = newToken
        self.newID = newID
    }

    public static let system = TokenSource(newToken: TokenIssuer.randomToken, newID: TokenIssuer.randomID)
}
