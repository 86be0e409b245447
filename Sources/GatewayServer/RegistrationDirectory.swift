import Foundation
import GatewayStorage
import Logging
import OIDC
import SAML

/// The registrations of one kind, decoded, from a ``StoredSnapshot`` (read at most once a second, decoded again only
/// when they changed), so `cnsgw sp` and `cnsgw client` reach a running gateway without a restart. A stored
/// registration that cannot be decoded is left out and logged.
public struct RegistrationDirectory<Entry: Sendable>: Sendable {
    private let entries: StoredSnapshot<[RegistrationRecord], [String: Entry]>

    public init(storage: any GatewayStorage, kind: String, logger: Logger, decode: @escaping @Sendable (RegistrationRecord) throws -> Entry) {
        entries = StoredSnapshot(maximumAge: .seconds(1), read: { try await storage.registrations(kind: kind) }) { records, _ in
            var decoded: [String: Entry] = [:]
            for record in records {
                do { decoded[record.id] = try decode(record) } catch {
                    logger.error("a stored registration cannot be used", metadata: ["kind": "\(kind)", "id": "\(record.id)", "error": "\(error)"])
                }
            }
            return decoded
        }
    }

    /// Reads the registrations again at the next use (another instance or an admin command changed them).
    public func invalidate() async { await entries.invalidate() }

    /// Every entry by registration ID.
    public func snapshot() async throws -> [String: Entry] { try await entries.value() }
}

/// The registered SAML service providers by entity ID, with their parsed metadata.
public typealias ServiceProviderDirectory = RegistrationDirectory<ServiceProvider>
/// The registered OIDC clients by client ID.
public typealias OIDCClientDirectory = RegistrationDirectory<ClientRegistration>

extension RegistrationDirectory where Entry == ServiceProvider {
    public init(serviceProvidersIn storage: any GatewayStorage, logger: Logger) {
        self.init(storage: storage, kind: ServiceProviderRegistration.storageKind, logger: logger) { record in
            let registration = try JSONDecoder().decode(ServiceProviderRegistration.self, from: record.json)
            // Expiry is an admin's matter (refresh or re-add); a stored registration is used as it was accepted.
            return (registration, try ServiceProviderMetadata.parse(Array(registration.metadataXML.utf8), now: .distantPast))
        }
    }
}

extension RegistrationDirectory where Entry == ClientRegistration {
    public init(clientsIn storage: any GatewayStorage, logger: Logger) {
        self.init(storage: storage, kind: ClientRegistration.storageKind, logger: logger) { record in
            try JSONDecoder().decode(ClientRegistration.self, from: record.json)
        }
    }
}
