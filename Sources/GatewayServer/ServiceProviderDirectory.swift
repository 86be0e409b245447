import Foundation
import GatewayStorage
import Logging
import SAML
import XMLSecurity

/// The registrations of one kind, decoded, read from storage at most once a second and decoded again only when
/// they changed, so `cnsgw sp` and `cnsgw client` reach a running gateway without a restart. A stored registration
/// that cannot be decoded is left out and logged.
public actor RegistrationDirectory<Entry: Sendable> {
    private let storage: any GatewayStorage
    private let kind: String
    private let logger: Logger
    private let decode: @Sendable (RegistrationRecord) throws -> Entry
    private var entries: [String: Entry] = [:]
    private var loadedFrom: [RegistrationRecord] = []
    private var checkedAt: ContinuousClock.Instant?

    public init(storage: any GatewayStorage, kind: String, logger: Logger, decode: @escaping @Sendable (RegistrationRecord) throws -> Entry) {
        self.storage = storage
        self.kind = kind
        self.logger = logger
        self.decode = decode
    }

    /// Every entry by registration ID.
    public func snapshot() async throws -> [String: Entry] {
        let now = ContinuousClock.now
        if let checkedAt, now - checkedAt < .seconds(1) { return entries }
        let records = try await storage.registrations(kind: kind)
        checkedAt = now
        guard records != loadedFrom else { return entries }
        var next: [String: Entry] = [:]
        for record in records {
            do { next[record.id] = try decode(record) } catch {
                logger.error("a stored registration cannot be used", metadata: ["kind": "\(kind)", "id": "\(record.id)", "error": "\(error)"])
            }
        }
        entries = next
        loadedFrom = records
        return entries
    }
}

/// The registered SAML service providers by entity ID.
public typealias ServiceProviderDirectory = RegistrationDirectory<ServiceProvider>

extension RegistrationDirectory where Entry == ServiceProvider {
    public init(serviceProvidersIn storage: any GatewayStorage, logger: Logger) {
        self.init(storage: storage, kind: ServiceProviderRegistration.storageKind, logger: logger) { record in
            let registration = try JSONDecoder().decode(ServiceProviderRegistration.self, from: record.json)
            // Expiry is an admin's matter (refresh or re-add); a stored registration is used as it was accepted.
            return (registration, try ServiceProviderMetadata.parse(Array(registration.metadataXML.utf8), now: .distantPast))
        }
    }
}

/// The gateway's SAML signing key from storage (the active one), loaded into libxmlsec1 once per key.
public actor SAMLKeyring {
    private let storage: any GatewayStorage
    private var loaded: (id: String, key: XMLSigningKey, certificates: [String])?
    private var checkedAt: ContinuousClock.Instant?
    private var metadataCache: (certificates: [String], builtAt: Date, xml: String)?

    public init(storage: any GatewayStorage) {
        self.storage = storage
    }

    /// The signed IdP metadata, built again when the published keys change or after an hour (its cacheDuration),
    /// not for every request.
    public func metadata(now: Date, build: (XMLSigningKey, [String], Date) throws -> String) async throws -> String {
        let keys = try await current()
        if let cached = metadataCache, cached.certificates == keys.certificates, now.timeIntervalSince(cached.builtAt) < 3600 { return cached.xml }
        let xml = try build(keys.key, keys.certificates, now)
        metadataCache = (keys.certificates, now, xml)
        return xml
    }

    /// The signing key and the certificates to publish (active and next).
    public func current() async throws -> (key: XMLSigningKey, certificates: [String]) {
        let now = ContinuousClock.now
        if let loaded, let checkedAt, now - checkedAt < .seconds(5) { return (loaded.key, loaded.certificates) }
        let keys = try await storage.signingKeys(use: "saml")
        checkedAt = now
        guard let active = keys.last(where: { $0.state == .active }), let certificate = active.certificatePEM else {
            throw XMLSecurityError(.badKey, "no active SAML signing key with a certificate in storage")
        }
        // Published: the next key before it signs, and retired keys until housekeeping removes them (after what
        // they signed has expired).
        let published = keys.compactMap(\.certificatePEM)
        if let loaded, loaded.id == active.id { self.loaded = (loaded.id, loaded.key, published); return (loaded.key, published) }
        let key = try XMLSigningKey(privateKeyPEM: active.privateKeyPEM, certificatePEM: certificate)
        loaded = (active.id, key, published)
        return (key, published)
    }
}
