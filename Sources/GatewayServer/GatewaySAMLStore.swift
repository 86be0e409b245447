import Foundation
import GatewayAudit
import GatewayStorage
import LoginOutcome
import SAML

/// The SAML engine's store over the gateway's storage: its requests, NameIDs and logout state as typed records, the
/// replay caches, and the audit log.
struct GatewaySAMLStore: SAMLStore {
    let storage: any GatewayStorage
    let audit: AuditLog

    func rememberOnce(_ cache: SAMLReplayCache, key: String, now: Date, expiresAt: Date) async throws -> Bool {
        try await storage.rememberOnce(namespace: cache.rawValue, key: key, now: now, expiresAt: expiresAt)
    }

    func storeLoginRequest(_ r: ValidatedAuthnRequest, loginID: String, expiresAt: Date) async throws {
        try await storage.storeSAMLRequest(SAMLRequestRecord(
            loginID: loginID, requestID: r.id, issuer: r.issuer, issueInstant: r.issueInstant, assertionConsumerServiceURL: r.destination.assertionConsumerServiceURL,
            relayState: r.destination.relayState, level: r.level.rawValue, comparison: r.comparison.rawValue, forceAuthn: r.forceAuthn,
            attributes: r.attributes, profile: r.profile.rawValue, expiresAt: expiresAt))
    }

    func takeLoginRequest(loginID: String, now: Date) async throws -> ValidatedAuthnRequest? {
        guard let r = try await storage.takeSAMLRequest(loginID: loginID, now: now), let level = SpidLevel(rawValue: r.level),
              let comparison = LevelComparison(rawValue: r.comparison), let profile = ServiceProviderRegistration.Profile(rawValue: r.profile) else { return nil }
        return ValidatedAuthnRequest(id: r.requestID, issuer: r.issuer, issueInstant: r.issueInstant,
                                     destination: ResponseDestination(serviceProvider: r.issuer, assertionConsumerServiceURL: r.assertionConsumerServiceURL,
                                                                      inResponseTo: r.requestID, relayState: r.relayState),
                                     level: level, comparison: comparison, forceAuthn: r.forceAuthn, attributes: r.attributes, profile: profile)
    }

    func recordNameID(_ nameID: String, session: String, serviceProvider: String, expiresAt: Date) async throws {
        try await storage.recordSAMLNameID(SAMLNameIDRecord(sessionID: session, serviceProvider: serviceProvider, nameID: nameID, expiresAt: expiresAt))
    }

    func takeNameID(session: String, serviceProvider: String, now: Date) async throws -> String? {
        try await storage.takeSAMLNameID(sessionID: session, serviceProvider: serviceProvider, now: now)?.nameID
    }

    func storeLogout(_ logout: LogoutPropagation, id: String, expiresAt: Date) async throws {
        let o = logout.original
        try await storage.storeSAMLLogout(SAMLLogoutRecord(
            id: id, requester: o.serviceProvider, responseURL: o.assertionConsumerServiceURL, inResponseTo: o.inResponseTo, relayState: o.relayState,
            remaining: logout.remaining.map { .init(sessionID: $0.session, serviceProvider: $0.serviceProvider) }, failed: logout.failed,
            pendingRequestID: logout.pendingRequestID, pendingServiceProvider: logout.pendingServiceProvider, expiresAt: expiresAt))
    }

    func takeLogout(id: String, now: Date) async throws -> LogoutPropagation? {
        guard let r = try await storage.takeSAMLLogout(id: id, now: now) else { return nil }
        return LogoutPropagation(original: ResponseDestination(serviceProvider: r.requester, assertionConsumerServiceURL: r.responseURL,
                                                               inResponseTo: r.inResponseTo, relayState: r.relayState),
                                 remaining: r.remaining.map { .init(session: $0.sessionID, serviceProvider: $0.serviceProvider) }, failed: r.failed,
                                 pendingRequestID: r.pendingRequestID, pendingServiceProvider: r.pendingServiceProvider)
    }

    func audit(_ fields: [String: String]) async throws { try await audit.append(kind: "saml", fields: fields) }
}
