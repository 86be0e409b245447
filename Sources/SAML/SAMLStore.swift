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

/// A single logout in progress: who asked, who is still to be told, whether any step failed.
public struct LogoutPropagation: Sendable, Hashable {
    public struct Participant: Sendable, Hashable {
        public let session: String
        public let serviceProvider: String
        public init(session: String, serviceProvider: String) {
            self.session = session
            self.serviceProvider = serviceProvider
        }
    }

    /// Where the final LogoutResponse goes.
    public let original: ResponseDestination
    public var remaining: [Participant]
    public var failed: Bool
    /// The LogoutRequest sent last, and to whom: its LogoutResponse must answer it.
    public var pendingRequestID: String?
    public var pendingServiceProvider: String?

    public init(original: ResponseDestination, remaining: [Participant], failed: Bool, pendingRequestID: String? = nil, pendingServiceProvider: String? = nil) {
        self.original = original
        self.remaining = remaining
        self.failed = failed
        self.pendingRequestID = pendingRequestID
        self.pendingServiceProvider = pendingServiceProvider
    }
}

/// The gateway's single-sign-on sessions, as single logout needs them: ending one tells its participants that have a
/// back channel (OIDC clients) and names the ones the SAML front channel must tell.
public protocol SingleLogoutSessions: Sendable {
    /// Ends the session `index` when `requester` took part in it; nil when it is unknown, expired or not theirs.
    func endSession(_ index: String, requester: String, now: Date) async throws -> EndedSession?
}

/// What ending a session did.
public struct EndedSession: Sendable, Hashable {
    /// Participants without a back channel (SAML services), other than the requester: told in turn over the front channel.
    public var frontChannel: [String]
    /// Participants told over their back channel.
    public var toldByBackChannel: [String]
    /// Whether every back-channel participant confirmed.
    public var backChannelComplete: Bool

    public init(frontChannel: [String], toldByBackChannel: [String], backChannelComplete: Bool) {
        self.frontChannel = frontChannel
        self.toldByBackChannel = toldByBackChannel
        self.backChannelComplete = backChannelComplete
    }
}
