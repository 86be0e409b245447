import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import Metrics
import SAML
import ServiceLifecycle

/// Refreshes the metadata of service providers registered from a URL, when their `cacheDuration` has passed (or
/// their `validUntil` nears). Each new copy must verify with the SP's federation certificate; a failed refresh
/// keeps the last good copy, records the error on the registration and counts
/// `cnsgw_saml_metadata_refresh_failures_total`.
struct MetadataRefreshService: Service {
    let storage: any GatewayStorage
    let transport: any HTTPTransport
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await periodically(every: interval) { await refreshDue(now: Date()) }
    }

    func refreshDue(now: Date) async {
        guard let records = try? await storage.registrations(kind: ServiceProviderRegistration.storageKind) else { return }
        for record in records {
            guard let registration = try? JSONDecoder().decode(ServiceProviderRegistration.self, from: record.json),
                  let current = try? ServiceProviderMetadata.parse(Array(registration.metadataXML.utf8), now: .distantPast),
                  let due = registration.refreshDue(metadata: current), due <= now else { continue }
            var next = registration
            next.fetchedAt = now
            let outcome: String
            do {
                guard case .body(let bytes, _, _) = try await transport.get(url: registration.source, ifNoneMatch: nil, ifModifiedSince: nil, timeout: 30,
                                                                            maximumBytes: 1 << 20) else { throw MetadataError(.malformed, "304 to an unconditional GET") }
                let fresh = try ServiceProviderMetadata.parse(bytes, federationCertificate: registration.federationCertificatePEM.map { Array($0.utf8) }, now: now)
                guard fresh.entityID == registration.entityID else {
                    throw MetadataError(.malformed, "the refreshed metadata is for \(fresh.entityID), not \(registration.entityID)")
                }
                next.metadataXML = String(decoding: bytes, as: UTF8.self)
                next.lastRefreshError = nil
                outcome = "refreshed"
            } catch {
                next.lastRefreshError = "\(error)"
                outcome = "failed"
                Counter(label: "cnsgw_saml_metadata_refresh_failures_total", dimensions: [("entity", registration.entityID)]).increment()
                logger.warning("SP metadata refresh failed; the last good copy stays in use",
                               metadata: ["entityID": "\(registration.entityID)", "error": "\(error)"])
            }
            do {
                let json = try JSONEncoder().encode(next)
                try await storage.replaceRegistration(kind: ServiceProviderRegistration.storageKind, id: record.id, json: json, now: now)
                try await AuditLog(storage: storage).append(kind: "admin", fields: ["action": "sp.refresh", "entityID": registration.entityID,
                                                                                    "result": outcome, "error": next.lastRefreshError ?? ""])
            } catch {
                logger.error("cannot store the refreshed SP metadata", metadata: ["entityID": "\(registration.entityID)", "error": "\(error)"])
            }
        }
    }
}
