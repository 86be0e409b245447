import Foundation
import LoginOutcome

/// A registered SAML service provider: its metadata and what the admin decided for it (`cnsgw sp add`).
public struct ServiceProviderRegistration: Sendable, Codable, Hashable {
    /// `spid`: every SPID rule; `saml2`: the standard Web Browser SSO profile and saml2int.
    public enum Profile: String, Sendable, Codable, CaseIterable {
        case spid, saml2
    }

    public var entityID: String
    public var metadataXML: String
    public var profile: Profile
    /// The level asked for when a `saml2` request has no RequestedAuthnContext, and the least ever asserted.
    public var minimumLevel: SpidLevel
    /// For `saml2` SPs: the attributes released (SPID names). `spid` SPs get their AttributeConsumingService's.
    public var attributes: [String]
    /// Encrypt assertions to the SP's encryption key.
    public var encryptAssertions: Bool
    /// Sign the Response as well as the Assertion (the default; SPID requires only the Assertion signed, but SPs on
    /// pysaml2's defaults refuse an unsigned Response).
    public var signResponse: Bool
    /// Accept SHA-1 signatures from this SP (refused by default).
    public var allowSHA1: Bool
    /// Where the metadata came from: a file path or an https URL (refreshed in the background).
    public var source: String
    /// Allow `dateOfBirth`, `gender`, `placeOfBirth`, `countyOfBirth`, derived from the codice fiscale.
    public var allowDerivedAttributes: Bool
    /// The name shown to citizens, set by the admin (`--display-name`); else the metadata's (``displayName(language:metadata:)``).
    public var displayName: String?
    /// For URL sources: the federation certificate (PEM) every refreshed copy's signature must verify with.
    public var federationCertificatePEM: String?
    /// When the metadata was last fetched (URL sources), and the last refresh error, if the last attempt failed.
    public var fetchedAt: Date?
    public var lastRefreshError: String?

    /// When a URL source is due for a refresh: its `cacheDuration` after the last fetch (one hour without one), and
    /// never later than its `validUntil`.
    public func refreshDue(metadata: ServiceProviderMetadata) -> Date? {
        guard source.hasPrefix("https://") || source.hasPrefix("http://") else { return nil }
        let fetched = fetchedAt ?? .distantPast
        let byCache = fetched + (metadata.cacheDuration ?? 3600)
        guard let validUntil = metadata.validUntil else { return byCache }
        return min(byCache, validUntil - 60)
    }

    public init(entityID: String, metadataXML: String, profile: Profile, minimumLevel: SpidLevel = .spidL2, attributes: [String] = [],
                encryptAssertions: Bool = false, signResponse: Bool = true, allowSHA1: Bool = false, source: String,
                allowDerivedAttributes: Bool = true) {
        self.entityID = entityID
        self.metadataXML = metadataXML
        self.profile = profile
        self.minimumLevel = minimumLevel
        self.attributes = attributes
        self.encryptAssertions = encryptAssertions
        self.signResponse = signResponse
        self.allowSHA1 = allowSHA1
        self.source = source
        self.allowDerivedAttributes = allowDerivedAttributes
    }

    /// The name citizens know the service by, in `language` (`it`, `en`) where the metadata has it: the admin's
    /// `--display-name`, else `mdui:DisplayName`, else `OrganizationDisplayName`; nil when none is known.
    public func displayName(language: String, metadata: ServiceProviderMetadata) -> String? {
        func pick(_ names: [String: String]) -> String? {
            names[language] ?? names["it"] ?? names["en"] ?? names[""] ?? names.keys.sorted().first.flatMap { names[$0] }
        }
        return displayName ?? pick(metadata.displayNames) ?? pick(metadata.organizationDisplayNames)
    }

    /// The storage kind of SAML SP registrations.
    public static let storageKind = "saml-sp"
}
