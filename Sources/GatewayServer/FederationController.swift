import Foundation
import Hummingbird
import OIDC
import OpenIDFederation

/// `/.well-known/openid-federation`: the gateway's Entity Configuration, signed with its active federation key
/// (separate from the OIDC keys; every stored federation key, next and retired included, is in its `jwks`).
struct FederationController: Sendable {
    let settings: FederationSettings
    let provider: ProviderConfiguration
    let federationKeys: OIDCKeyring
    let providerKeys: OIDCKeyring
    let trustMarks: RegistrationDirectory<InstalledTrustMark>

    func entityConfiguration(_ request: Request) async throws -> Response {
        let now = Date()
        let federation = try await federationKeys.current()
        let oidc = try await providerKeys.current()
        let claims = try ProviderEntityConfiguration.claims(settings: settings, provider: provider, federationKeys: federation.published,
                                                            providerKeys: oidc.published, signingAlgorithms: oidc.signing.keys.sorted(),
                                                            trustMarks: Array(try await trustMarks.snapshot().values).sorted { $0.type < $1.type }, now: now)
        let signed = try federation.rs256.sign(claims, type: EntityStatement.jwtType)
        return Response(status: .ok, headers: [.contentType: EntityStatement.mediaType, .cacheControl: "public, max-age=300",
                                               .accessControlAllowOrigin: "*"],
                        body: .init(byteBuffer: ByteBuffer(string: signed)))
    }
}
