import Foundation

/// The gateway as a SAML identity provider: its names, endpoints and time rules.
public struct IdentityProviderConfiguration: Sendable, Hashable {
    public var entityID: String
    public var singleSignOnURL: String
    public var singleLogoutURL: String
    /// Tolerated difference between the SP's clock and ours.
    public var clockSkew: TimeInterval
    /// How old an AuthnRequest's IssueInstant may be.
    public var maximumRequestAge: TimeInterval
    /// Validity of an assertion (`NotOnOrAfter`), SPID: a few minutes.
    public var assertionLifetime: TimeInterval
    public var organizationName: String
    public var organizationURL: String
    /// How long published metadata is valid.
    public var metadataValidity: TimeInterval

    public init(baseURL: String, clockSkew: TimeInterval = 60, maximumRequestAge: TimeInterval = 300, assertionLifetime: TimeInterval = 300,
                organizationName: String = "cnsgw", organizationURL: String? = nil, metadataValidity: TimeInterval = 7 * 86_400) {
        entityID = baseURL + "/saml/metadata"
        singleSignOnURL = baseURL + "/saml/sso"
        singleLogoutURL = baseURL + "/saml/slo"
        self.clockSkew = clockSkew
        self.maximumRequestAge = maximumRequestAge
        self.assertionLifetime = assertionLifetime
        self.organizationName = organizationName
        self.organizationURL = organizationURL ?? baseURL
        self.metadataValidity = metadataValidity
    }
}
