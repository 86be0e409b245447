import Foundation

/// The gateway's OIDC keys as the engine uses them.
public struct ProviderKeys: Sendable {
    /// Active signing keys by algorithm (`RS256`, `ES256`).
    public let signing: [String: JWSSigningKey]
    /// Everything published, for the JWKS: signature keys, and the encryption keys request objects may be encrypted to.
    public let published: [JSONWebKey]
    /// The same keys, parsed, for checking the gateway's own tokens.
    public let verification: [JWSVerificationKey]
    /// The private keys that open request objects encrypted to the gateway, by `kid` (every stored one, so a relying
    /// party that encrypted to a key about to be retired is still understood).
    public let decryption: [String: JWEDecryptionKey]

    public init(signing: [String: JWSSigningKey], published: [JSONWebKey], verification: [JWSVerificationKey],
                decryption: [String: JWEDecryptionKey] = [:]) throws {
        guard signing["RS256"] != nil else { throw OIDCError(.serverError, reason: "no_signing_key", "no active RS256 OIDC signing key in storage") }
        self.signing = signing
        self.published = published
        self.verification = verification
        self.decryption = decryption
    }

    /// The key for a client's ID tokens and userinfo: its registered algorithm, else RS256 (always present).
    public func signingKey(_ algorithm: String) -> JWSSigningKey { signing[algorithm] ?? rs256 }
    public var rs256: JWSSigningKey { signing["RS256"]! }   // checked in init

}
