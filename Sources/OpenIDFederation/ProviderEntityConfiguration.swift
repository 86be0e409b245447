import Foundation
import LoginOutcome
import OIDC

/// How the gateway presents itself in the federation: who it is, its superiors, and the organisation behind it.
public struct FederationSettings: Sendable, Hashable {
    /// The gateway's entity identifier: its OIDC issuer.
    public var entityID: String
    /// Its immediate superiors (the trust anchor, for an OP in SPID/CIE).
    public var authorityHints: [String]
    public var organizationName: String
    public var homepageURI: String?
    public var policyURI: String?
    public var logoURI: String?
    public var contacts: [String]
    /// How long the Entity Configuration is valid (`exp - iat`); relying parties cache it that long.
    public var configurationLifetime: TimeInterval
    public var limits: TrustChainResolver.Limits

    public init(entityID: String, authorityHints: [String] = [], organizationName: String, homepageURI: String? = nil, policyURI: String? = nil,
                logoURI: String? = nil, contacts: [String] = [], configurationLifetime: TimeInterval = 86_400,
                limits: TrustChainResolver.Limits = .init()) {
        self.entityID = entityID
        self.authorityHints = authorityHints
        self.organizationName = organizationName
        self.homepageURI = homepageURI
        self.policyURI = policyURI
        self.logoURI = logoURI
        self.contacts = contacts
        self.configurationLifetime = configurationLifetime
        self.limits = limits
    }
}

/// A trust mark the admin installed for the gateway (`cnsgw federation trust-mark add`), published as it was issued.
public struct InstalledTrustMark: Sendable, Hashable, Codable {
    public static let storageKind = "federation-trust-mark"

    public var type: String
    public var issuer: String
    public var jwt: String
    public var expiresAt: Date?

    /// Reads the type, issuer and expiry of a trust mark JWT issued to `subject` (its signature is the issuer's
    /// business and the relying parties'; an admin installs what the issuer sent).
    public init(jwt: String, subject: String) throws {
        guard let claims = JWS.unverifiedClaims(jwt) else { throw FederationError(.trustMark, "the trust mark is not a compact JWS with a JSON payload") }
        guard let type = (claims["trust_mark_type"] ?? claims["trust_mark_id"] ?? claims["id"])?.string, let issuer = claims["iss"]?.string else {
            throw FederationError(.trustMark, "the trust mark names no trust_mark_type (or id) and iss")
        }
        guard claims["sub"]?.string == subject else {
            throw FederationError(.trustMark, "the trust mark is issued to '\(claims["sub"]?.string ?? "")', not to this gateway (\(subject))")
        }
        self.type = type
        self.issuer = issuer
        self.jwt = jwt
        expiresAt = claims["exp"]?.seconds.map { Date(timeIntervalSince1970: $0) }
    }
}

/// The gateway's Entity Configuration (OpenID Federation 1.0 §3 and the SPID/CIE OIDC profile): self-signed with a
/// federation key, its `metadata.openid_provider` the discovery document with the keys inline and the profile's
/// constants, and `metadata.federation_entity` naming the organisation.
public enum ProviderEntityConfiguration {
    public static func claims(settings: FederationSettings, provider: ProviderConfiguration, federationKeys: [JSONWebKey], providerKeys: [JSONWebKey],
                              signingAlgorithms: [String], trustMarks: [InstalledTrustMark], now: Date) throws -> JSONObject {
        func strings(_ s: [String]) -> JSONValue { .array(s.map(JSONValue.string)) }
        func keySet(_ keys: [JSONWebKey]) throws -> JSONValue {
            .object(["keys": .array(try keys.map { try JSONValue.object(JSONObject.parse(JSONEncoder().encode($0))) })])
        }
        var op = provider.discoveryDocument(signingAlgorithms: signingAlgorithms)
        op["jwks_uri"] = nil   // the keys travel inside the signed configuration instead (SPID/CIE: jwks or signed_jwks_uri)
        op["jwks"] = try keySet(providerKeys)
        op["organization_name"] = .string(settings.organizationName)
        op["client_registration_types_supported"] = strings(["automatic"])
        op["request_authentication_methods_supported"] = .object(["authorization_endpoint": strings(["request_object"])])
        op["token_endpoint_auth_methods_supported"] = strings(["private_key_jwt"])
        op["revocation_endpoint_auth_methods_supported"] = strings(["private_key_jwt"])
        op["introspection_endpoint_auth_methods_supported"] = strings(["private_key_jwt"])
        op["subject_types_supported"] = strings(["pairwise"])
        op["id_token_encryption_alg_values_supported"] = strings(JWE.KeyAlgorithm.allCases.map(\.rawValue))
        op["id_token_encryption_enc_values_supported"] = strings(JWE.ContentAlgorithm.allCases.map(\.rawValue))
        op["prompt_values_supported"] = strings(["consent", "login"])
        // The profile's schemas (spid-cie-oidc's OP metadata) list identity claims only, and RS/ES algorithms only:
        // PS256 stays accepted from relying parties that use it, unadvertised here.
        op["claims_supported"] = strings(IdentityClaims.supported)
        let profileAlgorithms = ProviderConfiguration.clientSigningAlgorithms.map(\.rawValue).filter { !$0.hasPrefix("PS") }.sorted()
        op["request_object_signing_alg_values_supported"] = strings(profileAlgorithms)
        op["token_endpoint_auth_signing_alg_values_supported"] = strings(profileAlgorithms)
        var entity: JSONObject = ["organization_name": .string(settings.organizationName)]
        if let uri = settings.homepageURI { entity["homepage_uri"] = .string(uri) }
        if let uri = settings.policyURI { entity["policy_uri"] = .string(uri) }
        if let uri = settings.logoURI { entity["logo_uri"] = .string(uri) }
        if !settings.contacts.isEmpty { entity["contacts"] = strings(settings.contacts) }
        var claims: JSONObject = [
            "iss": .string(settings.entityID), "sub": .string(settings.entityID),
            "iat": .integer(Int64(now.timeIntervalSince1970)), "exp": .integer(Int64((now + settings.configurationLifetime).timeIntervalSince1970)),
            "jwks": try keySet(federationKeys),
            "metadata": .object(["openid_provider": .object(op), "federation_entity": .object(entity)]),
        ]
        if !settings.authorityHints.isEmpty { claims["authority_hints"] = strings(settings.authorityHints) }
        let live = trustMarks.filter { ($0.expiresAt ?? .distantFuture) > now }
        if !live.isEmpty {
            claims["trust_marks"] = .array(live.map { .object(["trust_mark_type": .string($0.type), "id": .string($0.type), "trust_mark": .string($0.jwt)]) })
        }
        return claims
    }
}
