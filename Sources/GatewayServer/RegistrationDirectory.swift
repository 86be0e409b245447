import Foundation
import GatewayStorage
import Logging
import OIDC
import SAML

/// The registrations of one kind, decoded, from a ``StoredSnapshot`` (read at most once a second, decoded again only
/// when they changed), so `cnsgw sp` and `cnsgw client` reach a running gateway without a restart. A stored
/// registration that cannot be decoded is left out and logged.
public struct RegistrationDirectory<Entry: Sendable>: Sendable {
    /// The decoded entries, with the stored version each was decoded from: a re-read decodes only what changed (a
    /// gateway with many automatically registered relying parties re-reads after each new one).
    struct Decoded: Sendable {
        var entries: [String: Entry] = [:]
        var versions: [String: Int] = [:]
    }

    private let entries: StoredSnapshot<[RegistrationRecord], Decoded>

    public init(storage: any GatewayStorage, kind: String, logger: Logger, decode: @escaping @Sendable (RegistrationRecord) throws -> Entry) {
        entries = StoredSnapshot(maximumAge: .seconds(1), read: { try await storage.registrations(kind: kind) }) { records, previous in
            var decoded = Decoded()
            for record in records {
                if let entry = previous?.entries[record.id], previous?.versions[record.id] == record.version {
                    decoded.entries[record.id] = entry
                    decoded.versions[record.id] = record.version
                    continue
                }
                do {
                    decoded.entries[record.id] = try decode(record)
                    decoded.versions[record.id] = record.version
                } catch {
                    logger.error("a stored registration cannot be used", metadata: ["kind": "\(kind)", "id": "\(record.id)", "error": "\(error)"])
                }
            }
            return decoded
        }
    }

    /// Reads the registrations again at the next use (another instance or an admin command changed them).
    public func invalidate() async { entries.invalidate() }

    /// Adds or replaces an entry this process just stored, until the next read confirms it (which decodes it again).
    public func remember(_ id: String, _ entry: Entry) async {
        entries.amend { decoded in
            decoded.entries[id] = entry
            decoded.versions[id] = -1
        }
    }

    /// Every entry by registration ID.
    public func snapshot() async throws -> [String: Entry] { try await entries.value().entries }
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
