import Foundation

/// The SAML AuthnRequest a pending login answers, kept until the login's Response is sent.
public struct SAMLRequestRecord: Sendable, Hashable {
    public var loginID: String
    /// The AuthnRequest's ID (the Response's `InResponseTo`) and issuer (the SP's entity ID).
    public var requestID: String
    public var issuer: String
    public var issueInstant: Date
    /// Where the Response goes, and the RelayState it carries back.
    public var assertionConsumerServiceURL: String
    public var relayState: String?
    public var level: String
    public var comparison: String
    public var forceAuthn: Bool
    public var attributes: [String]
    /// `spid` or `saml2`.
    public var profile: String
    public var expiresAt: Date

    public init(loginID: String, requestID: String, issuer: String, issueInstant: Date, assertionConsumerServiceURL: String, relayState: String?,
                level: String, comparison: String, forceAuthn: Bool, attributes: [String], profile: String, expiresAt: Date) {
        self.loginID = loginID
        self.requestID = requestID
        self.issuer = issuer
        self.issueInstant = issueInstant
        self.assertionConsumerServiceURL = assertionConsumerServiceURL
        self.relayState = relayState
        self.level = level
        self.comparison = comparison
        self.forceAuthn = forceAuthn
        self.attributes = attributes
        self.profile = profile
        self.expiresAt = expiresAt
    }
}

/// The OIDC authorization request a pending login answers, kept until its code (or error) is sent.
public struct OIDCAuthorizationRecord: Sendable, Hashable {
    public var loginID: String
    public var clientID: String
    public var redirectURI: String
    public var state: String?
    public var nonce: String?
    public var scopes: [String]
    public var codeChallenge: String?
    public var level: String
    public var forceFresh: Bool
    public var maxAge: Int?
    public var userinfoClaims: [String]
    public var idTokenClaims: [String]
    public var uiLocale: String?
    public var expiresAt: Date

    public init(loginID: String, clientID: String, redirectURI: String, state: String?, nonce: String?, scopes: [String], codeChallenge: String?,
                level: String, forceFresh: Bool, maxAge: Int?, userinfoClaims: [String], idTokenClaims: [String], uiLocale: String?, expiresAt: Date) {
        self.loginID = loginID
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.state = state
        self.nonce = nonce
        self.scopes = scopes
        self.codeChallenge = codeChallenge
        self.level = level
        self.forceFresh = forceFresh
        self.maxAge = maxAge
        self.userinfoClaims = userinfoClaims
        self.idTokenClaims = idTokenClaims
        self.uiLocale = uiLocale
        self.expiresAt = expiresAt
    }
}

/// The NameID one SAML service knows the citizen by in one single-sign-on session (for its LogoutRequest).
public struct SAMLNameIDRecord: Sendable, Hashable {
    public var sessionID: String
    public var serviceProvider: String
    public var nameID: String
    public var expiresAt: Date

    public init(sessionID: String, serviceProvider: String, nameID: String, expiresAt: Date) {
        self.sessionID = sessionID
        self.serviceProvider = serviceProvider
        self.nameID = nameID
        self.expiresAt = expiresAt
    }
}

/// A SAML single logout waiting for a service's LogoutResponse, by the RelayState sent with the gateway's request.
public struct SAMLLogoutRecord: Sendable, Hashable {
    public struct Participant: Sendable, Hashable {
        public var sessionID: String
        public var serviceProvider: String
        public init(sessionID: String, serviceProvider: String) {
            self.sessionID = sessionID
            self.serviceProvider = serviceProvider
        }
    }

    public var id: String
    /// The service that asked, where its final LogoutResponse goes, and what it answers.
    public var requester: String
    public var responseURL: String
    public var inResponseTo: String
    public var relayState: String?
    public var remaining: [Participant]
    public var failed: Bool
    public var pendingRequestID: String?
    public var pendingServiceProvider: String?
    public var expiresAt: Date

    public init(id: String, requester: String, responseURL: String, inResponseTo: String, relayState: String?, remaining: [Participant], failed: Bool,
                pendingRequestID: String?, pendingServiceProvider: String?, expiresAt: Date) {
        self.id = id
        self.requester = requester
        self.responseURL = responseURL
        self.inResponseTo = inResponseTo
        self.relayState = relayState
        self.remaining = remaining
        self.failed = failed
        self.pendingRequestID = pendingRequestID
        self.pendingServiceProvider = pendingServiceProvider
        self.expiresAt = expiresAt
    }
}
