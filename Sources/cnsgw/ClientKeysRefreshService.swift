import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import Metrics
import OIDC
import ServiceLifecycle

/// Fetches again, every `interval`, the keys of OIDC clients registered with a JWKS URL, so a client's key rollover
/// reaches the gateway without an admin. A fetch that fails, or gives keys the client could not use (no signing key
/// for private_key_jwt, private members, short RSA keys), keeps the last good keys, records the error on the
/// registration and counts `cnsgw_oidc_jwks_refresh_failures_total`. Changes and new errors are audited.
struct ClientKeysRefreshService: Service {
    let storage: any GatewayStorage
    let transport: any HTTPTransport
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await periodically(every: interval, waitFirst: true) { await refreshAll(now: Date()) }
    }

    func refreshAll(now: Date) async {
        guard let records = try? await storage.registrations(kind: ClientRegistration.storageKind) else { return }
        for record in records {
            guard let client = try? JSONDecoder().decode(ClientRegistration.self, from: record.json), let uri = client.jwksURI else { continue }
            var next = client
            next.jwksFetchedAt = now
            do {
                guard case .body(let bytes, _, _) = try await transport.get(url: uri, ifNoneMatch: nil, ifModifiedSince: nil, timeout: 30,
                                                                            maximumBytes: 256 * 1024) else { throw OIDCError(.invalidClient, reason: "jwks_fetch", "304 to an unconditional GET") }
                next.jwks = try JSONWebKeySet.parse(Data(bytes))
                try next.validate()
                next.lastRefreshError = nil
            } catch {
                next.jwks = client.jwks
                next.lastRefreshError = "\(error)"
                Counter(label: "cnsgw_oidc_jwks_refresh_failures_total", dimensions: [("client", client.clientID)]).increment()
                logger.warning("client JWKS refresh failed; the last good keys stay in use", metadata: ["client": "\(client.clientID)", "error": "\(error)"])
            }
            // Only what changed is written (and audited): keys, or the error.
            guard next.jwks != client.jwks || next.lastRefreshError != client.lastRefreshError else { continue }
            do {
                let json = try JSONEncoder().encode(next)
                try await storage.replaceRegistration(kind: ClientRegistration.storageKind, id: record.id, json: json, now: now)
                try await AuditLog(storage: storage).append(kind: "admin", fields: [
                    "action": "client.jwks_refresh", "client": client.clientID, "result": next.lastRefreshError == nil ? "keys_changed" : "failed",
                    "keys": (next.jwks?.keys.compactMap(\.kid) ?? []).joined(separator: ","), "error": next.lastRefreshError ?? "",
                ])
            } catch {
                logger.error("cannot store a client's refreshed keys", metadata: ["client": "\(client.clientID)", "error": "\(error)"])
            }
        }
    }
}
