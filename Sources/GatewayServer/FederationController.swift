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
    /// The last signed configuration: a public endpoint should not cost an RSA signature per request.
    let cache = SignedConfigurationCache(maximumAge: 60)

    func entityConfiguration(_ request: Request) async throws -> Response {
        let now = Date()
        let federation = try await federationKeys.current()
        let oidc = try await providerKeys.current()
        let claims = try ProviderEntityConfiguration.claims(settings: settings, provider: provider, federationKeys: federation.published,
                                                            providerKeys: oidc.published, signingAlgorithms: oidc.signing.keys.sorted(),
                                                            trustMarks: Array(try await trustMarks.snapshot().values).sorted { $0.type < $1.type }, now: now)
        var content = claims
        content["iat"] = nil
        content["exp"] = nil
        let key = federation.rs256
        let signed = try await cache.signed(content, now: now) { try key.sign(claims, type: EntityStatement.jwtType) }
        return Response(status: .ok, headers: [.contentType: EntityStatement.mediaType, .cacheControl: "public, max-age=300",
                                               .accessControlAllowOrigin: "*"],
                        body: .init(byteBuffer: ByteBuffer(string: signed)))
    }
}

/// The gateway's Entity Configuration as last signed, reused while what it says (everything but `iat` and `exp`) is
/// unchanged and it is younger than `maximumAge`; a new key, trust mark or setting is signed at once.
actor SignedConfigurationCache {
    let maximumAge: TimeInterval
    private var last: (content: JSONObject, signed: String, at: Date)?

    init(maximumAge: TimeInterval) { self.maximumAge = maximumAge }

    func signed(_ content: JSONObject, now: Date, sign: @Sendable () throws -> String) throws -> String {
        if let last, last.content == content, now.timeIntervalSince(last.at) < maximumAge, now >= last.at { return last.signed }
        let signed = try sign()
        last = (content, signed, now)
        return signed
    }
}
