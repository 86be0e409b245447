import Foundation

/// One grant type of the token endpoint: turns the request's parameters into the grant to issue tokens for, or
/// refuses with an ``OIDCError``. ``OpenIDProviderEngine`` dispatches on ``grantType``.
public protocol GrantHandler: Sendable {
    /// The `grant_type` value it handles.
    var grantType: String { get }
    func grant(for form: [String: String], client: ClientRegistration, engine: OpenIDProviderEngine, now: Date) async throws -> AuthorizationGrant
}

/// `authorization_code` (OIDC Core §3.1.3, RFC 7636): the code is spent on first use even if the rest of the request
/// fails, and must come with the authorization request's `redirect_uri` and PKCE verifier.
public struct AuthorizationCodeGrantHandler: GrantHandler {
    public let grantType = "authorization_code"
    public init() {}

    public func grant(for form: [String: String], client: ClientRegistration, engine: OpenIDProviderEngine, now: Date) async throws -> AuthorizationGrant {
        guard let code = form["code"] else { throw OIDCError(.invalidRequest, reason: "no_code", "code is missing") }
        let grant = try await engine.spend(code, kind: .authorizationCode, client: client, now: now)
        guard form["redirect_uri"] == grant.redirectURI else {
            throw OIDCError(.invalidGrant, reason: "code_redirect_uri", "redirect_uri differs from the authorization request's")
        }
        try PKCE.verify(verifier: form["code_verifier"], challenge: grant.codeChallenge)
        return grant
    }
}

/// `refresh_token` (RFC 6749 §6): refresh tokens rotate — each is spent on use and a new one issued; a spent one used
/// again revokes the grant (it was stolen, or the client is broken). A refresh cannot widen the scope.
public struct RefreshTokenGrantHandler: GrantHandler {
    public let grantType = "refresh_token"
    public init() {}

    public func grant(for form: [String: String], client: ClientRegistration, engine: OpenIDProviderEngine, now: Date) async throws -> AuthorizationGrant {
        guard let token = form["refresh_token"] else { throw OIDCError(.invalidRequest, reason: "no_refresh_token", "refresh_token is missing") }
        let grant = try await engine.spend(token, kind: .refreshToken, client: client, now: now)
        if let scope = form["scope"], !Set(scope.split(separator: " ").map(String.init)).isSubset(of: grant.scopes) {
            throw OIDCError(.invalidScope, reason: "refresh_scope", "a refresh cannot widen the scope")
        }
        return grant
    }
}
