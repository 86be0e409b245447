import Foundation
import OIDC

extension ClientRegistration {
    /// The registration a relying party's resolved `openid_relying_party` metadata gives (automatic registration,
    /// SPID/CIE profile): its redirect URIs and keys as the chain's policies left them, private_key_jwt, pairwise
    /// subjects, signed and (with an `enc` key) encrypted userinfo.
    public init(federated entity: ResolvedEntity, resolvedAt: Date) throws {
        let m = entity.metadata
        func unusable(_ why: String) -> FederationError { FederationError(.unusableMetadata, "the relying party \(entity.entityID) \(why)") }
        if let declared = m["client_id"]?.string, declared != entity.entityID { throw unusable("declares client_id '\(declared)', not its entity identifier") }
        guard let redirects = m["redirect_uris"]?.strings, !redirects.isEmpty else { throw unusable("has no redirect_uris after the federation's policies") }
        guard let keys = m["jwks"]?.object?["keys"], let jwks = try? JSONDecoder().decode(JSONWebKeySet.self, from: JSONEncoder().encode(JSONValue.object(["keys": keys]))) else {
            throw unusable("publishes no usable jwks in its metadata (jwks_uri and signed_jwks_uri are not fetched)")
        }
        if let method = m["token_endpoint_auth_method"]?.string, method != "private_key_jwt" {
            throw unusable("asks for token_endpoint_auth_method \(method); the profile requires private_key_jwt")
        }
        let signing = m["id_token_signed_response_alg"]?.string ?? "RS256"
        guard ["RS256", "ES256"].contains(signing) else { throw unusable("asks for ID tokens signed with \(signing) (RS256 or ES256 are offered)") }
        var registration = ClientRegistration(clientID: entity.entityID, profile: .spid, redirectURIs: redirects,
                                              postLogoutRedirectURIs: m["post_logout_redirect_uris"]?.strings ?? [], authentication: .privateKeyJWT,
                                              jwks: jwks, subjectType: .pairwise, backchannelLogoutURI: m["backchannel_logout_uri"]?.string,
                                              idTokenSigningAlgorithm: signing)
        if let alg = m["userinfo_encrypted_response_alg"]?.string {
            guard let key = JWE.KeyAlgorithm(rawValue: alg) else { throw unusable("asks for userinfo encrypted with \(alg), which is not offered") }
            registration.userinfoKeyEncryption = key
        }
        if let enc = m["userinfo_encrypted_response_enc"]?.string {
            guard let content = JWE.ContentAlgorithm(rawValue: enc) else { throw unusable("asks for userinfo content encryption \(enc), which is not offered") }
            registration.userinfoEncryption = content
        }
        registration.encryptIDToken = m["id_token_encrypted_response_alg"] != nil && registration.encryptionKey != nil
        registration.displayName = m["client_name"]?.string
        registration.federation = FederationMembership(trustAnchor: entity.trustAnchor, expiresAt: entity.expiresAt, resolvedAt: resolvedAt,
                                                       organizationName: entity.federationEntity["organization_name"]?.string ?? m["client_name"]?.string,
                                                       trustMarks: entity.trustMarks, path: entity.path)
        do { try registration.validate() } catch let error as OIDCError { throw unusable("cannot be registered: \(error.detail)") }
        self = registration
    }
}
