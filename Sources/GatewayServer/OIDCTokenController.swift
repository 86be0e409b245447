import Foundation
import GatewayAudit
import GatewayStorage
import Hummingbird
import Metrics
import NIOCore
import OIDC

/// The OIDC back channel: token, userinfo, revocation and introspection endpoints. Every answer is JSON (or a JWT
/// for SPID userinfo) with `Cache-Control: no-store`; every refusal is audited.
struct OIDCTokenController: Sendable {
    let application: GatewayApplication
    var provider: ProviderConfiguration { application.oidcProvider }
    var storage: any GatewayStorage { application.storage }
    typealias Names = OIDCController

    /// The client the request authenticates as, with a client assertion accepted once.
    func authenticate(_ form: [String: String], _ request: Request, endpoint: String, now: Date) async throws -> ClientRegistration {
        let clients = try await application.oidcClients.snapshot()
        let authenticated = try ClientAuthenticator(provider: provider) { clients[$0] }
            .authenticate(form: form, authorization: request.headers[.authorization], endpoint: endpoint, now: now)
        if let id = authenticated.assertionID {
            let expiry = (authenticated.assertionExpiry ?? now) + provider.clockSkew
            guard try await storage.rememberOnce(namespace: "oidc-client-assertion", key: id, now: now, expiresAt: max(expiry, now + 1)) else {
                throw OIDCError(.invalidClient, reason: "assertion_replayed", "this client assertion (jti) was already used")
            }
        }
        return authenticated.registration
    }

    func token(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let now = Date()
        let form = try await Names.parameters(request)
        var client: String? = form["client_id"]
        do {
            guard request.method == .post else { throw OIDCError(.invalidRequest, reason: "method", "the token endpoint takes POST") }
            let registration = try await authenticate(form, request, endpoint: provider.tokenEndpoint, now: now)
            client = registration.clientID
            let grant: AuthorizationGrant
            switch form["grant_type"] {
            case "authorization_code": grant = try await redeemCode(form, client: registration, now: now)
            case "refresh_token": grant = try await redeemRefreshToken(form, client: registration, now: now)
            case nil: throw OIDCError(.invalidRequest, reason: "no_grant_type", "grant_type is missing")
            case let other?: throw OIDCError(.unsupportedGrantType, reason: "grant_type", "grant_type '\(other)' is not supported")
            }
            let keys = try await application.oidcKeys.current()
            let issuer = TokenIssuer(provider: provider)
            let signing = keys.signing[registration.idTokenSigningAlgorithm] ?? keys.signing["RS256"]!
            let accessToken = try issuer.accessToken(grant, key: keys.signing["RS256"]!, now: now)
            var body: JSONObject = [
                "access_token": .string(accessToken), "token_type": .string("Bearer"), "expires_in": .integer(Int64(provider.accessTokenLifetime)),
                "id_token": .string(try idToken(issuer.idToken(grant, accessToken: accessToken, key: signing, now: now), for: registration)),
                "scope": .string(grant.scopes.joined(separator: " ")),
            ]
            if grant.offlineAccess {
                let refresh = TokenIssuer.randomToken()
                try await storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Names.refreshNamespace, id: Names.hash(refresh),
                                                                     payload: try JSONEncoder().encode(grant), expiresAt: grant.expiresAt))
                body["refresh_token"] = .string(refresh)
            }
            try await application.audit.append(kind: "oidc", fields: ["result": "tokens_issued", "client": registration.clientID, "grant": grant.grantID,
                                                                      "grantType": form["grant_type"]!, "refresh": "\(grant.offlineAccess)"])
            Counter(label: "cnsgw_oidc_tokens_issued_total", dimensions: [("grant_type", form["grant_type"]!)]).increment()
            return try Names.json(body)
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "token", client: client, request: request)
        }
    }

    /// The ID token as the client registered it: signed, or signed then encrypted to its key.
    func idToken(_ signed: String, for client: ClientRegistration) throws -> String {
        guard client.encryptIDToken, let key = client.encryptionKey else { return signed }
        return try JWE.encrypt(Data(signed.utf8), to: key, algorithm: client.userinfoKeyEncryption, encryption: client.userinfoEncryption)
    }

    /// A code is spent on first use even if the rest of the request fails; a second use revokes the grant, so every
    /// token issued from the code stops working (RFC 6749 §4.1.2).
    func redeemCode(_ form: [String: String], client: ClientRegistration, now: Date) async throws -> AuthorizationGrant {
        guard let code = form["code"] else { throw OIDCError(.invalidRequest, reason: "no_code", "code is missing") }
        let grant = try await spend(code, namespace: Names.codeNamespace, what: "code", replayed: "code_replayed", client: client, now: now)
        guard form["redirect_uri"] == grant.redirectURI else {
            throw OIDCError(.invalidGrant, reason: "code_redirect_uri", "redirect_uri differs from the authorization request's")
        }
        try PKCE.verify(verifier: form["code_verifier"], challenge: grant.codeChallenge)
        return try await alive(grant, now: now)
    }

    /// Refresh tokens rotate: each is spent on use and a new one issued; a spent one used again revokes the grant
    /// (it was stolen, or the client is broken).
    func redeemRefreshToken(_ form: [String: String], client: ClientRegistration, now: Date) async throws -> AuthorizationGrant {
        guard let token = form["refresh_token"] else { throw OIDCError(.invalidRequest, reason: "no_refresh_token", "refresh_token is missing") }
        let grant = try await spend(token, namespace: Names.refreshNamespace, what: "refresh_token", replayed: "refresh_token_replayed", client: client, now: now)
        if let scope = form["scope"], !Set(scope.split(separator: " ").map(String.init)).isSubset(of: grant.scopes) {
            throw OIDCError(.invalidScope, reason: "refresh_scope", "a refresh cannot widen the scope")
        }
        return try await alive(grant, now: now)
    }

    /// Spends a single-use token (code or refresh token) of `client`: unknown or expired is `invalid_grant`; one
    /// spent before revokes the grant it stood for.
    func spend(_ token: String, namespace: String, what: String, replayed: String, client: ClientRegistration, now: Date) async throws -> AuthorizationGrant {
        switch try await storage.redeemOneTimeCode(namespace: namespace, id: Names.hash(token), now: now) {
        case .notFound:
            throw OIDCError(.invalidGrant, reason: "unknown_\(what)", "the \(what) is unknown or expired")
        case .alreadyRedeemed(let record):
            if let grant = try? JSONDecoder().decode(AuthorizationGrant.self, from: record.payload) { try await revoke(grantID: grant.grantID, why: replayed, now: now) }
            throw OIDCError(.invalidGrant, reason: replayed, "the \(what) was already used; the grant it stood for is revoked")
        case .redeemed(let record):
            let grant = try JSONDecoder().decode(AuthorizationGrant.self, from: record.payload)
            guard grant.clientID == client.clientID else { throw OIDCError(.invalidGrant, reason: "\(what)_client", "the \(what) was issued to another client") }
            return grant
        }
    }

    func alive(_ grant: AuthorizationGrant, now: Date) async throws -> AuthorizationGrant {
        guard try await grantAlive(grant.grantID, now: now) != nil else { throw OIDCError(.invalidGrant, reason: "grant_revoked", "the grant was revoked") }
        return grant
    }

    /// The grant, unless it was revoked or has expired.
    func grantAlive(_ grantID: String, now: Date) async throws -> AuthorizationGrant? {
        guard let record = try await storage.oneTimeCode(namespace: Names.grantNamespace, id: grantID, now: now), record.consumedAt == nil else { return nil }
        return try? JSONDecoder().decode(AuthorizationGrant.self, from: record.payload)
    }

    func revoke(grantID: String, why: String, now: Date) async throws {
        if case .redeemed = try await storage.redeemOneTimeCode(namespace: Names.grantNamespace, id: grantID, now: now) {
            try await application.audit.append(kind: "oidc", fields: ["result": "grant_revoked", "grant": grantID, "reason": why])
        }
    }

    func userinfo(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let now = Date()
        do {
            var token: String?
            if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") { token = String(header.dropFirst(7)) }
            if request.method == .post, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                let form = try await Names.parameters(request)
                if let bodyToken = form["access_token"] {
                    guard token == nil else { throw OIDCError(.invalidRequest, reason: "two_tokens", "the access token is sent twice") }
                    token = bodyToken
                }
            }
            guard let token else { throw OIDCError(.invalidToken, reason: "no_token", "no Bearer access token") }
            let keys = try await application.oidcKeys.current()
            let claims = try AccessTokenVerifier(provider: provider).verify(token, keys: keys.verification, now: now)
            guard let grant = try await grantAlive(claims["cnsgw_grant"]!.string!, now: now), grant.clientID == claims["client_id"]?.string else {
                throw OIDCError(.invalidToken, reason: "grant_revoked", "the access token was revoked")
            }
            guard let client = try await application.oidcClients.snapshot()[grant.clientID] else {
                throw OIDCError(.invalidToken, reason: "client_removed", "the client of this token is no longer registered")
            }
            let issuer = TokenIssuer(provider: provider)
            try await application.audit.append(kind: "oidc", fields: ["result": "userinfo", "client": client.clientID, "grant": grant.grantID,
                                                                      "claims": grant.userinfoClaims.keys.sorted().joined(separator: ",")])
            guard client.profile == .spid else { return try Names.json(issuer.userinfo(grant, now: now)) }
            var jwt = try issuer.signedUserinfo(grant, key: keys.signing[client.idTokenSigningAlgorithm] ?? keys.signing["RS256"]!, now: now)
            if let encryptionKey = client.encryptionKey {
                jwt = try JWE.encrypt(Data(jwt.utf8), to: encryptionKey, algorithm: client.userinfoKeyEncryption, encryption: client.userinfoEncryption)
            }
            return Response(status: .ok, headers: [.contentType: "application/jwt", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: jwt)))
        } catch let error as OIDCError {
            var description = error.detail.replacingOccurrences(of: "\"", with: "'")
            description = description.replacingOccurrences(of: "\\", with: "")
            let challenge = "Bearer error=\"\(error.code.rawValue)\", error_description=\"\(description)\""
            return try await refuse(error, endpoint: "userinfo", client: nil, request: request, headers: [.wwwAuthenticate: challenge])
        }
    }

    /// RFC 7009: the grant behind an access or refresh token of the calling client ends; unknown tokens are not an error.
    func revocation(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let now = Date()
        let form = try await Names.parameters(request)
        do {
            let client = try await authenticate(form, request, endpoint: provider.revocationEndpoint, now: now)
            guard let token = form["token"] else { throw OIDCError(.invalidRequest, reason: "no_token", "token is missing") }
            if let (grant, _) = try await grant(of: token, now: now) {
                guard grant.clientID == client.clientID else {
                    throw OIDCError(.unauthorizedClient, reason: "revoke_other_client", "the token was issued to another client")
                }
                try await revoke(grantID: grant.grantID, why: "revoked_by_client", now: now)
            }
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "revocation", client: form["client_id"], request: request)
        }
    }

    /// RFC 7662, for the client the token was issued to; anything else is `active: false`.
    func introspection(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let now = Date()
        let form = try await Names.parameters(request)
        do {
            let client = try await authenticate(form, request, endpoint: provider.introspectionEndpoint, now: now)
            guard let token = form["token"] else { throw OIDCError(.invalidRequest, reason: "no_token", "token is missing") }
            guard let (grant, accessClaims) = try await grant(of: token, now: now), grant.clientID == client.clientID,
                  let alive = try await grantAlive(grant.grantID, now: now) else { return try Names.json(["active": .bool(false)]) }
            var body: JSONObject = ["active": .bool(true), "client_id": .string(alive.clientID), "sub": .string(alive.subject), "iss": .string(provider.issuer),
                                    "scope": .string(alive.scopes.joined(separator: " ")), "acr": .string(alive.level.uri),
                                    "auth_time": .integer(Int64(alive.authTime.timeIntervalSince1970))]
            if let claims = accessClaims {
                for name in ["exp", "iat", "jti", "aud"] { body[name] = claims[name] }
                body["token_type"] = .string("Bearer")
            } else {
                body["exp"] = .integer(Int64(alive.expiresAt.timeIntervalSince1970))
                body["token_type"] = .string("refresh_token")
            }
            return try Names.json(body)
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "introspection", client: form["client_id"], request: request)
        }
    }

    /// The grant an access token (verified; its claims returned) or a refresh token (looked up, not spent) belongs to.
    func grant(of token: String, now: Date) async throws -> (AuthorizationGrant, accessClaims: JSONObject?)? {
        if token.split(separator: ".").count == 3 {
            let keys = try await application.oidcKeys.current()
            guard let claims = try? AccessTokenVerifier(provider: provider).verify(token, keys: keys.verification, now: now),
                  let record = try await storage.oneTimeCode(namespace: Names.grantNamespace, id: claims["cnsgw_grant"]!.string!, now: now),
                  let grant = try? JSONDecoder().decode(AuthorizationGrant.self, from: record.payload) else { return nil }
            return (grant, claims)
        }
        guard let record = try await storage.oneTimeCode(namespace: Names.refreshNamespace, id: Names.hash(token), now: now), record.consumedAt == nil,
              let grant = try? JSONDecoder().decode(AuthorizationGrant.self, from: record.payload) else { return nil }
        return (grant, nil)
    }

    func refuse(_ error: OIDCError, endpoint: String, client: String?, request: Request, headers: HTTPFields = [:]) async throws -> Response {
        Counter(label: "cnsgw_oidc_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
        try await application.refusals.append(kind: "oidc", fields: ["result": "refused", "endpoint": endpoint, "reason": error.reason,
                                                                  "error": error.code.rawValue, "detail": error.detail, "client": client ?? ""])
        var headers = headers
        if error.code == .invalidClient, request.headers[.authorization]?.lowercased().hasPrefix("basic ") == true {
            headers[.wwwAuthenticate] = "Basic realm=\"cnsgw\""
        }
        return try Names.errorJSON(error, headers: headers)
    }
}
