import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import OIDC
import OpenIDFederation
import OutboundHTTP

/// Automatic registration of relying parties through OpenID Federation, over the gateway's storage: a resolved
/// relying party is stored as an `oidc-client` registration marked with its ``FederationMembership`` (so every
/// instance, `cnsgw client list` and the token endpoint see it) and used until its chain expires. A chain that
/// failed is refused again without fetching for `refusalCache` seconds, so a flood of requests naming one entity
/// cannot turn the gateway into a fetcher.
public struct GatewayFederationRegistrar: FederatedClientRegistrar {
    let storage: any GatewayStorage
    let anchors: RegistrationDirectory<FederationTrustAnchor>
    let transport: any HTTPTransport
    let limits: TrustChainResolver.Limits
    let refusals: ResolutionRefusals
    let audit: AuditLog
    let logger: Logger
    /// Called with each registration stored (the client directory keeps it in memory until its next read).
    let registered: @Sendable (ClientRegistration) async -> Void

    public init(storage: any GatewayStorage, anchors: RegistrationDirectory<FederationTrustAnchor>, transport: any HTTPTransport, limits: TrustChainResolver.Limits,
                refusalCache: TimeInterval, audit: AuditLog, logger: Logger, registered: @escaping @Sendable (ClientRegistration) async -> Void) {
        self.storage = storage
        self.anchors = anchors
        self.transport = transport
        self.limits = limits
        self.refusals = ResolutionRefusals(lifetime: refusalCache)
        self.audit = audit
        self.logger = logger
        self.registered = registered
    }

    public func handles(_ clientID: String) -> Bool { FederationEndpoints.isEntityIdentifier(clientID) }

    public func registration(for clientID: String, mayResolve: Bool, now: Date) async throws -> ClientRegistration? {
        if let record = try await storage.registration(kind: ClientRegistration.storageKind, id: clientID) {
            let stored = try JSONDecoder().decode(ClientRegistration.self, from: record.json)
            guard let membership = stored.federation else { return stored }   // an admin's registration always wins
            if membership.expiresAt > now { return stored }
        } else if !mayResolve {
            return nil
        }
        if let refusal = await refusals.current(clientID, now: now) { throw Self.oidcError(clientID, refusal) }
        do {
            let resolver = TrustChainResolver(anchors: Array(try await anchors.snapshot().values), transport: transport, limits: limits)
            let resolved = try await resolver.resolve(clientID, entityType: "openid_relying_party", now: now)
            let client = try ClientRegistration(federated: resolved, resolvedAt: now)
            try await storage.storeRegistration(kind: ClientRegistration.storageKind, id: clientID, json: try JSONEncoder().encode(client), now: now)
            await registered(client)
            try await audit.append(kind: "oidc", fields: ["result": "federation_client_registered", "client": clientID, "anchor": resolved.trustAnchor,
                                                          "path": resolved.path.joined(separator: " > "), "trustMarks": resolved.trustMarks.joined(separator: ","),
                                                          "expires": ISO8601DateFormatter().string(from: resolved.expiresAt),
                                                          "statements": "\(resolved.statementCount)"])
            logger.notice("relying party registered through its trust chain", metadata: ["client": "\(clientID)", "anchor": "\(resolved.trustAnchor)",
                                                                                        "expires": "\(resolved.expiresAt)"])
            return client
        } catch let error as FederationError {
            await refusals.remember(clientID, error, now: now)
            logger.warning("relying party refused: its trust chain cannot be trusted",
                           metadata: ["client": "\(clientID)", "reason": "\(error.code.rawValue)", "detail": "\(error.detail)"])
            throw Self.oidcError(clientID, error)
        }
    }

    static func oidcError(_ clientID: String, _ error: FederationError) -> OIDCError {
        OIDCError(.invalidClient, reason: "trust_chain_" + error.code.rawValue,
                  "client '\(clientID)' is not registered, and its OpenID Federation trust chain cannot be trusted: \(error.detail)", delivery: .page)
    }
}

/// Recent resolution failures by entity identifier, each kept for `lifetime`; at most `capacity` are kept (the
/// oldest go first), so remembering cannot grow without bound either.
actor ResolutionRefusals {
    let lifetime: TimeInterval
    let capacity: Int
    private var entries: [String: (until: Date, error: FederationError)] = [:]

    init(lifetime: TimeInterval, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func current(_ id: String, now: Date) -> FederationError? {
        guard let entry = entries[id] else { return nil }
        guard entry.until > now else { entries[id] = nil; return nil }
        return entry.error
    }

    func remember(_ id: String, _ error: FederationError, now: Date) {
        guard lifetime > 0 else { return }
        if entries.count >= capacity {
            entries = entries.filter { $0.value.until > now }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.until < $1.value.until })?.key { entries[oldest] = nil }
        }
        entries[id] = (now + lifetime, error)
    }
}

extension RegistrationDirectory where Entry == FederationTrustAnchor {
    /// The trust anchors an admin pinned (`cnsgw federation anchor add`).
    public init(trustAnchorsIn storage: any GatewayStorage, logger: Logger) {
        self.init(storage: storage, kind: FederationTrustAnchor.storageKind, logger: logger) { record in
            try JSONDecoder().decode(FederationTrustAnchor.self, from: record.json)
        }
    }
}

extension RegistrationDirectory where Entry == InstalledTrustMark {
    /// The gateway's own trust marks (`cnsgw federation trust-mark add`).
    public init(trustMarksIn storage: any GatewayStorage, logger: Logger) {
        self.init(storage: storage, kind: InstalledTrustMark.storageKind, logger: logger) { record in
            try JSONDecoder().decode(InstalledTrustMark.self, from: record.json)
        }
    }
}
