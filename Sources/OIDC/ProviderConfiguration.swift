import Foundation
import LoginOutcome

/// The gateway as an OpenID Provider: its issuer, endpoints and token lifetimes.
public struct ProviderConfiguration: Sendable, Hashable {
    /// The issuer (the public base URL, no trailing slash).
    public var issuer: String
    public var authorizationCodeLifetime: TimeInterval
    public var accessTokenLifetime: TimeInterval
    public var idTokenLifetime: TimeInterval
    public var refreshTokenLifetime: TimeInterval
    /// Allowed clock difference when checking `iat`/`exp`/`nbf` of client JWTs.
    public var clockSkew: TimeInterval
    /// The longest a client JWT (request object, client assertion) may live (`exp - iat`); one hour, the default of
    /// common RP libraries (authlib). The replay caches keep each `jti` until its `exp`.
    public var maximumClientJWTLifetime: TimeInterval

    public init(issuer: String, authorizationCodeLifetime: TimeInterval = 60, accessTokenLifetime: TimeInterval = 600,
                idTokenLifetime: TimeInterval = 600, refreshTokenLifetime: TimeInterval = 30 * 86_400, clockSkew: TimeInterval = 60,
                maximumClientJWTLifetime: TimeInterval = 3600) {
        self.issuer = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        self.authorizationCodeLifetime = authorizationCodeLifetime
        self.accessTokenLifetime = accessTokenLifetime
        self.idTokenLifetime = idTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.clockSkew = clockSkew
        self.maximumClientJWTLifetime = maximumClientJWTLifetime
    }

    public var authorizationEndpoint: String { issuer + "/oidc/authorize" }
    public var tokenEndpoint: String { issuer + "/oidc/token" }
    public var userinfoEndpoint: String { issuer + "/oidc/userinfo" }
    public var jwksURI: String { issuer + "/oidc/jwks" }
    public var revocationEndpoint: String { issuer + "/oidc/revoke" }
    public var introspectionEndpoint: String { issuer + "/oidc/introspect" }
    public var endSessionEndpoint: String { issuer + "/oidc/logout" }

    /// The algorithms a client's JWTs (request objects, client assertions) may be signed with.
    public static let clientSigningAlgorithms: Set<JWSAlgorithm> = [.rs256, .rs512, .ps256, .es256]

    /// The discovery document (OpenID Connect Discovery 1.0 §3, with the SPID/CIE constants of DOMAIN.md §4).
    public func discoveryDocument(signingAlgorithms: [String]) -> JSONObject {
        func strings(_ s: [String]) -> JSONValue { .array(s.map(JSONValue.string)) }
        return [
            "issuer": .string(issuer),
            "authorization_endpoint": .string(authorizationEndpoint),
            "token_endpoint": .string(tokenEndpoint),
            "userinfo_endpoint": .string(userinfoEndpoint),
            "jwks_uri": .string(jwksURI),
            "revocation_endpoint": .string(revocationEndpoint),
            "introspection_endpoint": .string(introspectionEndpoint),
            "end_session_endpoint": .string(endSessionEndpoint),
            "scopes_supported": strings(["openid", "offline_access", "profile"]),
            "response_types_supported": strings(["code"]),
            "response_modes_supported": strings(["query"]),
            "grant_types_supported": strings(["authorization_code", "refresh_token"]),
            "subject_types_supported": strings(["pairwise", "public"]),
            "id_token_signing_alg_values_supported": strings(signingAlgorithms),
            "userinfo_signing_alg_values_supported": strings(signingAlgorithms),
            "userinfo_encryption_alg_values_supported": strings(JWE.KeyAlgorithm.allCases.map(\.rawValue)),
            "userinfo_encryption_enc_values_supported": strings(JWE.ContentAlgorithm.allCases.map(\.rawValue)),
            "request_object_encryption_alg_values_supported": strings(JWE.KeyAlgorithm.allCases.map(\.rawValue)),
            "request_object_encryption_enc_values_supported": strings(JWE.ContentAlgorithm.allCases.map(\.rawValue)),
            "request_object_signing_alg_values_supported": strings(Self.clientSigningAlgorithms.map(\.rawValue).sorted()),
            "token_endpoint_auth_methods_supported": strings(ClientRegistration.Authentication.allCases.map(\.rawValue)),
            "token_endpoint_auth_signing_alg_values_supported": strings(Self.clientSigningAlgorithms.map(\.rawValue).sorted()),
            "revocation_endpoint_auth_methods_supported": strings(ClientRegistration.Authentication.allCases.map(\.rawValue)),
            "introspection_endpoint_auth_methods_supported": strings(ClientRegistration.Authentication.allCases.map(\.rawValue)),
            "code_challenge_methods_supported": strings(["S256"]),
            "acr_values_supported": strings(SpidLevel.allCases.map(\.uri)),
            "claims_supported": strings(["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash", "jti"] + IdentityClaims.supported),
            "claims_parameter_supported": .bool(true),
            "request_parameter_supported": .bool(true),
            "request_uri_parameter_supported": .bool(false),
            "require_request_uri_registration": .bool(false),
            "authorization_response_iss_parameter_supported": .bool(true),
            "claim_types_supported": strings(["normal"]),
            "ui_locales_supported": strings(["it", "en"]),
            "prompt_values_supported": strings(["consent", "login", "none"]),
            "backchannel_logout_supported": .bool(true),
            "backchannel_logout_session_supported": .bool(true),
            "frontchannel_logout_supported": .bool(false),
        ]
    }
}
