import Foundation
import GatewayStorage
import SAML
import XMLSecurity

/// The gateway's SAML signing key from storage (the active one, loaded into libxmlsec1 once per key) and the
/// certificates to publish, from a ``StoredSnapshot`` read every five seconds, so a rollover done by another instance
/// is seen; and the signed metadata, built again only when the published certificates change or after an hour.
public struct SAMLKeyring: Sendable {
    public struct Keys: Sendable {
        public let activeID: String
        public let key: XMLSigningKey
        /// Published: the next key before it signs, and retired keys until housekeeping removes them (after what they
        /// signed has expired).
        public let certificates: [String]
    }

    private let keys: StoredSnapshot<[SigningKeyRecord], Keys>
    private let metadataCache = MetadataCache()

    /// Reads the keys again at the next use (a rotation, here or on another instance).
    public func invalidate() async { keys.invalidate() }

    public init(storage: any GatewayStorage) {
        keys = StoredSnapshot(maximumAge: .seconds(5), read: { try await storage.signingKeys(use: "saml") }) { records, previous in
            guard let active = records.last(where: { $0.state == .active }), let certificate = active.certificatePEM else {
                throw XMLSecurityError(.badKey, "no active SAML signing key with a certificate in storage")
            }
            let published = records.compactMap(\.certificatePEM)
            if let previous, previous.activeID == active.id { return Keys(activeID: active.id, key: previous.key, certificates: published) }
            return Keys(activeID: active.id, key: try XMLSigningKey(privateKeyPEM: active.privateKeyPEM, certificatePEM: certificate), certificates: published)
        }
    }

    public func current() async throws -> Keys { try await keys.value() }

    /// The signed IdP metadata, not built for every request.
    public func metadata(now: Date, build: (XMLSigningKey, [String], Date) throws -> String) async throws -> String {
        let keys = try await current()
        if let xml = await metadataCache.xml(certificates: keys.certificates, now: now) { return xml }
        let xml = try build(keys.key, keys.certificates, now)
        await metadataCache.store(xml, certificates: keys.certificates, builtAt: now)
        return xml
    }

    actor MetadataCache {
        private var cached: (certificates: [String], builtAt: Date, xml: String)?

        func xml(certificates: [String], now: Date) -> String? {
            guard let cached, cached.certificates == certificates, now.timeIntervalSince(cached.builtAt) < 3600 else { return nil }
            return cached.xml
        }

        func store(_ xml: String, certificates: [String], builtAt: Date) { cached = (certificates, builtAt, xml) }
    }
}
