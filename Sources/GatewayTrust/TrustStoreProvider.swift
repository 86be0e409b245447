import CNSValidation
import Foundation
import GatewayStorage
import KeyMaterial

/// The current trust store, rebuilt from storage when an admin changes the trusted CAs: a running gateway picks
/// up `cnsgw ca add/remove/import-tsl` without a restart, within one second, and each login sees one consistent
/// store. Logins within that second use the store in memory instead of reading the database.
public struct TrustStoreProvider: Sendable {
    private let snapshot: StoredSnapshot<[TrustedCARecord], TrustStore>

    /// `onReload` runs after each rebuild (the card listener's CA names follow it).
    public init(storage: any GatewayStorage, onReload: @escaping @Sendable (TrustStore) -> Void = { _ in }) {
        snapshot = StoredSnapshot(maximumAge: .seconds(1), read: { try await storage.trustedCAs() }) { records, _ in
            let store = try TrustStore(records: records)
            onReload(store)
            return store
        }
    }

    /// Reads the trusted CAs again at the next decision (an admin changed them, here or on another instance).
    public func invalidate() async { snapshot.invalidate() }

    /// The trust store for a decision now (reloaded when the stored set changed).
    public func trustStore() async throws -> TrustStore { try await snapshot.value() }
}

extension TrustStore {
    /// The trust store of the stored CAs (certificates and per-anchor policies as an admin set them).
    public init(records: [TrustedCARecord]) throws {
        try self.init(anchors: try records.map { r in
            TrustAnchor(certificate: try X509Certificate(derEncoded: [UInt8](r.certificateDER)),
                        policy: try JSONDecoder().decode(AnchorPolicy.self, from: r.policyJSON), name: r.name)
        })
    }
}
