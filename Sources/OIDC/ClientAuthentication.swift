import Crypto
import Foundation

/// A client that proved who it is at the token, revocation or introspection endpoint.
public struct AuthenticatedClient: Sendable {
    public let registration: ClientRegistration
    /// The client assertion's `jti` and expiry (private_key_jwt), for the replay cache.
    public let assertionID: String?
    public let assertionExpiry: Date?
}

/// Client authentication (OIDC Core §9, RFC 7523): `private_key_jwt`, `client_secret_basic`, `client_secret_post`.
/// A client must use the method it registered; every failure is `invalid_client`.
public struct ClientAuthenticator: Sendable {
    public static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    public let provider: ProviderConfiguration
    public let client: @Sendable (String) -> ClientRegistration?

    public init(provider: ProviderConfiguration, client: @escaping @Sendable (String) -> ClientRegistration?) {
        self.provider = provider
        self.client = client
    }

    /// `form`: the request body; `authorization`: the Authorization header; `endpoint`: the URL called (an
    /// assertion's `aud` may name it, the token endpoint or the issuer).
    public func authenticate(form: [String: String], authorization: String?, endpoint: String, now: Date) throws -> AuthenticatedClient {
        func refuse(_ reason: String, _ detail: String) -> OIDCError { OIDCError(.invalidClient, reason: reason, detail) }
        let basic = authorization.flatMap(Self.basicCredentials)
        if authorization != nil && basic == nil && authorization?.lowercased().hasPrefix("basic ") == true {
            throw refuse("bad_basic", "the Authorization header is not valid Basic credentials")
        }
        let methods = [basic != nil, form["client_secret"] != nil, form["client_assertion"] != nil].filter { $0 }.count
        guard methods <= 1 else { throw OIDCError(.invalidRequest, reason: "several_auth_methods", "the request uses more than one client authentication method") }
        if let assertion = form["client_assertion"] {
            guard form["client_assertion_type"] == Self.assertionType else {
                throw refuse("assertion_type", "client_assertion_type must be \(Self.assertionType)")
            }
            let claimed = JWS.unverifiedClaims(assertion)
            guard let clientID = form["client_id"] ?? claimed?["sub"]?.string, let registration = client(clientID) else {
                throw refuse("unknown_client", "the client assertion names no registered client")
            }
            guard registration.authentication == .privateKeyJWT else {
                throw refuse("wrong_auth_method", "client '\(clientID)' registered \(registration.authentication.rawValue), not private_key_jwt")
            }
            let verified: VerifiedJWS
            do {
                verified = try JWS.verify(assertion, keys: registration.signingKeys, allowed: ProviderConfiguration.clientSigningAlgorithms,
                                          purpose: "client assertion", error: .invalidClient)
            } catch let error as OIDCError { throw refuse(error.reason, error.detail) }
            let c = verified.claims
            guard c["iss"]?.string == clientID, c["sub"]?.string == clientID else {
                throw refuse("assertion_subject", "the client assertion's iss and sub must both be '\(clientID)'")
            }
            let audiences = Set(c["aud"]?.strings ?? [])
            guard !audiences.isDisjoint(with: [provider.issuer, provider.tokenEndpoint, endpoint]) else {
                throw refuse("assertion_audience", "the client assertion's aud must name this provider (\(provider.tokenEndpoint))")
            }
            guard let jti = c["jti"]?.string, !jti.isEmpty else { throw refuse("assertion_jti", "the client assertion has no jti") }
            let validator = AuthorizationRequestValidator(provider: provider, client: client)
            try validator.checkLifetime(c, now: now, purpose: "client assertion") { refuse($0, $1) }
            return AuthenticatedClient(registration: registration, assertionID: clientID + "\n" + jti,
                                       assertionExpiry: c["exp"]?.seconds.map { Date(timeIntervalSince1970: $0) })
        }
        let credentials: (id: String, secret: String, method: ClientRegistration.Authentication)
        if let basic { credentials = (basic.0, basic.1, .clientSecretBasic) }
        else if let id = form["client_id"], let secret = form["client_secret"] { credentials = (id, secret, .clientSecretPost) }
        else { throw refuse("no_client_authentication", "the request carries no client authentication") }
        guard let registration = client(credentials.id) else { throw refuse("unknown_client", "client '\(credentials.id)' is not registered") }
        guard registration.authentication == credentials.method else {
            throw refuse("wrong_auth_method", "client '\(credentials.id)' registered \(registration.authentication.rawValue), not \(credentials.method.rawValue)")
        }
        guard let stored = registration.secretHash, Self.constantTimeEqual(stored, ClientRegistration.hashSecret(credentials.secret)) else {
            throw refuse("bad_secret", "the client secret of '\(credentials.id)' is wrong")
        }
        if let id = form["client_id"], id != credentials.id { throw refuse("client_id_mismatch", "client_id differs from the authenticated client") }
        return AuthenticatedClient(registration: registration, assertionID: nil, assertionExpiry: nil)
    }

    /// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
    static func basicCredentials(_ header: String) -> (String, String)? {
        guard header.lowercased().hasPrefix("basic "), let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        func decode(_ s: Substring) -> String? { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let id = decode(text[..<colon]), let secret = decode(text[text.index(after: colon)...]) else { return nil }
        return (id, secret)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
