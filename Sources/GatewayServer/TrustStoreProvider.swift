import CNSValidation
import Foundation
import GatewayStorage

/// The current trust store, rebuilt from storage when an admin changes the trusted CAs: a running gateway picks
/// up `cnsgw ca add/remove/import-tsl` without a restart, within `maximumAge` (one second), and each login sees
/// one consistent store. Logins within that second use the store in memory instead of reading the database.
public actor TrustStoreProvider {
    private let storage: any GatewayStorage
    private var current: TrustStore?
    private var loadedFrom: [TrustedCARecord] = []
    private let onReload: @Sendable (TrustStore) -> Void
    private var checkedAt: ContinuousClock.Instant?
    /// How long a loaded store is used before storage is read again.
    public let maximumAge: Duration = .seconds(1)

    /// `onReload` runs after each rebuild (the card listener's CA names follow it).
    public init(storage: any GatewayStorage, onReload: @escaping @Sendable (TrustStore) -> Void = { _ in }) {
        self.storage = storage
        self.onReload = onReload
    }

    /// The trust store for a decision now (reloaded when the stored set changed).
    public func trustStore() async throws -> TrustStore {
        let now = ContinuousClock.now
        if let current, let checkedAt, now - checkedAt < maximumAge { return current }
        let records = try await storage.trustedCAs()
        checkedAt = now
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
