import CNSValidation
import Foundation
import GatewayStorage

/// The current trust store, rebuilt from storage when an admin changes the trusted CAs: a running gateway picks
/// up `cnsgw ca add/remove` without a restart, and each login sees one consistent store.
public actor TrustStoreProvider {
    private let storage: any GatewayStorage
    private var current: TrustStore?
    private var loadedFrom: [TrustedCARecord] = []
    private let onReload: @Sendable (TrustStore) -> Void

    /// `onReload` runs after each rebuild (the card listener's CA names follow it).
    public init(storage: any GatewayStorage, onReload: @escaping @Sendable (TrustStore) -> Void = { _ in }) {
        self.storage = storage
        self.onReload = onReload
    }

    /// The trust store for a decision now (reloaded when the stored set changed).
    public func trustStore() async throws -> TrustStore {
        let records = try await storage.trustedCAs()
        if let current, records == loadedFrom { return current }
        let anchors = try records.map { r in
            TrustAnchor(certificate: try X509Certificate(derEncoded: [UInt8](r.certificateDER)),
                        policy: try JSONDecoder().decode(AnchorPolicy.self, from: r.policyJSON), name: r.name)
        }
        let store = try TrustStore(anchors: anchors)
        current = store
        loadedFrom = records
        onReload(store)
        return store
    }
}
