import Foundation
import GatewayStorage
import OIDC

/// The gateway's OIDC signing keys (or, with `use: "federation"`, its OpenID Federation keys) from storage, from a ``StoredSnapshot`` read every five seconds (a rollover done by
/// another instance is seen): the active ones sign, every stored one (next, active, retired) is published in the JWKS.
public struct OIDCKeyring: Sendable {
    private let keys: StoredSnapshot<[SigningKeyRecord], ProviderKeys>

    /// Reads the keys again at the next use (a rotation, here or on another instance).
    public func invalidate() async { keys.invalidate() }

    public init(storage: any GatewayStorage, use: String = "oidc") {
        // With the OIDC signing keys come the keys relying parties encrypt request objects to.
        let uses = use == "oidc" ? ["oidc", "oidc-encryption"] : [use]
        keys = StoredSnapshot(maximumAge: .seconds(5), read: {
            var records: [SigningKeyRecord] = []
            for use in uses { records += try await storage.signingKeys(use: use) }
            return records
        }) { records, _ in
            var signing: [String: JWSSigningKey] = [:]
            var published: [JSONWebKey] = []
            var decryption: [String: JWEDecryptionKey] = [:]
            for record in records {
                if record.use == "oidc-encryption" {
                    let key = try JWEDecryptionKey(kid: record.id, privateKeyPEM: record.privateKeyPEM)
                    decryption[record.id] = key
                    published.append(try key.publicJWK())
                    continue
                }
                let key = try JWSSigningKey(kid: record.id, algorithm: record.algorithm, privateKeyPEM: record.privateKeyPEM)
                published.append(try key.publicJWK())
                if record.state == .active { signing[record.algorithm] = key }   // oldest first: the newest active key wins
            }
            return try ProviderKeys(signing: signing, published: published, verification: try published.filter(\.isForSigning).map(JWSVerificationKey.init),
                                    decryption: decryption)
        }
    }

    public func current() async throws -> ProviderKeys { try await keys.value() }
}
