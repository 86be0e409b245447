import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import Metrics
import OutboundHTTP
import ServiceLifecycle

/// A registration that keeps a document fetched from a URL its registrant controls (SAML metadata, a client's JWKS).
protocol RefreshedRegistration: Codable, Sendable {
    static var storageKind: String { get }
    /// How a refresh is named in the audit log, its metrics and its logs, and the largest document accepted.
    static var refresh: (auditAction: String, idField: String, failureCounter: String, counterDimension: String, largest: Int) { get }
    var registrationID: String { get }
    /// The URL to fetch now, or nil when no refresh is due.
    func refreshURL(now: Date) -> String?
    /// The registration with the fetched document, once it passed every check the first registration did; throws otherwise.
    func applying(_ document: [UInt8], now: Date) throws -> Self
    /// The registration keeping its last good document, with the failure recorded.
    func keeping(failure: String, now: Date) -> Self
    /// Whether storing `next` changes anything worth a write (and an audit record).
    func differs(from next: Self) -> Bool
    /// The audit fields of a stored refresh (besides `action` and the registration's ID).
    func auditFields(failure: String?) -> [String: String]
}

/// Fetches again, every `interval`, the documents of registrations that keep one from a URL: a document that fails
/// its checks (or a fetch that fails) keeps the last good copy, records the error on the registration, counts a
/// failure metric and is logged; what changed is stored and audited. One service for every such kind of registration.
struct RegistrationRefreshService<Registration: RefreshedRegistration>: Service {
    let storage: any GatewayStorage
    let transport: any HTTPTransport
    let interval: TimeInterval
    /// Wait one interval before the first round (a document just registered was just fetched).
    var waitFirst = false
    let logger: Logger

    func run() async throws {
        await periodically(every: interval, waitFirst: waitFirst) { await refreshDue(now: Date()) }
    }

    func refreshDue(now: Date) async {
        guard let records = try? await storage.registrations(kind: Registration.storageKind) else { return }
        let names = Registration.refresh
        for record in records {
            guard let registration = try? JSONDecoder().decode(Registration.self, from: record.json), let url = registration.refreshURL(now: now) else { continue }
            var failure: String?
            let next: Registration
            do {
                guard case .body(let bytes, _, _) = try await transport.get(url: url, ifNoneMatch: nil, ifModifiedSince: nil, timeout: 30,
                                                                            maximumBytes: names.largest) else {
                    throw HTTPTransportError("\(url) answered 304 to an unconditional GET")
                }
                next = try registration.applying(bytes, now: now)
            } catch {
                failure = "\(error)"
                next = registration.keeping(failure: "\(error)", now: now)
                Counter(label: names.failureCounter, dimensions: [(names.counterDimension, registration.registrationID)]).increment()
                logger.warning("a registration's refresh failed; the last good copy stays in use",
                               metadata: ["kind": "\(Registration.storageKind)", "id": "\(registration.registrationID)", "error": "\(error)"])
            }
            guard registration.differs(from: next) else { continue }
            do {
                try await storage.replaceRegistration(kind: Registration.storageKind, id: record.id, json: try JSONEncoder().encode(next), now: now)
                try await AuditLog(storage: storage).append(kind: "admin", fields: next.auditFields(failure: failure).merging(
                    ["action": names.auditAction, names.idField: registration.registrationID]) { _, own in own })
            } catch {
                logger.error("cannot store a refreshed registration", metadata: ["id": "\(registration.registrationID)", "error": "\(error)"])
            }
        }
    }
}
