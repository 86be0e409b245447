import Foundation

/// A registered SAML service provider with its parsed metadata.
public typealias ServiceProvider = (registration: ServiceProviderRegistration, metadata: ServiceProviderMetadata)

/// What the SAML identity provider persists, in its own terms; the gateway implements it over its storage.
public protocol SAMLStore: Sendable {
    /// Records `key` until `expiresAt`; false when it was already there (a replayed request).
    func rememberOnce(_ cache: SAMLReplayCache, key: String, now: Date, expiresAt: Date) async throws -> Bool
    /// The AuthnRequest a login answers, kept until the login ends.
    func storeLoginRequest(_ request: ValidatedAuthnRequest, loginID: String, expiresAt: Date) async throws
    /// Takes the request of a login, once: nil when it was taken before, is unknown or has expired.
    func takeLoginRequest(loginID: String, now: Date) async throws -> ValidatedAuthnRequest?
    /// The NameID a service knows the citizen by in one session (for the LogoutRequest a later single logout sends).
    func recordNameID(_ nameID: String, session: String, serviceProvider: String, expiresAt: Date) async throws
    func takeNameID(session: String, serviceProvider: String, now: Date) async throws -> String?
    /// A single logout waiting for a service's LogoutResponse, by the RelayState the gateway sent with its request.
    func storeLogout(_ logout: LogoutPropagation, id: String, expiresAt: Date) async throws
    func takeLogout(id: String, now: Date) async throws -> LogoutPropagation?
    /// Appends an event to the audit log.
    func audit(_ fields: [String: String]) async throws
}

/// The replay caches of the identity provider.
public enum SAMLReplayCache: String, Sendable, Hashable {
    case authnRequest = "saml-authn-request"
    case logoutRequest = "saml-logout-request"
}
