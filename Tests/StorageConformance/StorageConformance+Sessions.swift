import Foundation
import GatewayStorage
import Testing

// Conformance for sessions, front-end requests, gateway secrets, registrations and signing keys.
extension StorageConformance {
    static func sessions(_ s: any GatewayStorage) async throws {
        let session = SessionRecord(id: "h1", certificateFingerprint: "fp", level: "SpidL1", citizen: citizen, authenticatedAt: t0,
                                    expiresAt: t0 + 1800)
        try await s.createSession(session)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.createSession(session) }
        #expect(try await s.session(id: "h1") == session)
        let joined = try await s.updateSession(id: "h1") { var r = $0; r.participants += ["https://sp1.example.it", "client-2"]; return r }
        #expect(joined.version == 1 && joined.participants == ["https://sp1.example.it", "client-2"])
        #expect(try await s.session(id: "h1") == joined)
        // The card a session is bound to never changes.
        await #expect(throws: StorageError(.conflict, "")) { _ = try await s.updateSession(id: "h1") { var r = $0; r.certificateFingerprint = "other"; return r } }
        await #expect(throws: StorageError(.notFound, "")) { _ = try await s.updateSession(id: "nope") { $0 } }
        try await s.deleteSession(id: "h1")
        #expect(try await s.session(id: "h1") == nil)
        await #expect(throws: StorageError(.notFound, "")) { try await s.deleteSession(id: "h1") }
    }

    static func frontEndRequests(_ s: any GatewayStorage) async throws {
        let saml = SAMLRequestRecord(loginID: "l1", requestID: "_r1", issuer: "https://sp.example.it", issueInstant: t0 - 2,
                                     assertionConsumerServiceURL: "https://sp.example.it/acs", relayState: nil, level: "SpidL2", comparison: "minimum",
                                     forceAuthn: true, attributes: ["name", "fiscalNumber"], profile: "spid", expiresAt: t0 + 600)
        try await s.storeSAMLRequest(saml)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.storeSAMLRequest(saml) }
        #expect(try await s.takeSAMLRequest(loginID: "l1", now: t0) == saml)
        #expect(try await s.takeSAMLRequest(loginID: "l1", now: t0) == nil)   // taken once
        let oidc = OIDCAuthorizationRecord(loginID: "l2", clientID: "https://rp.example.it", redirectURI: "https://rp.example.it/cb", state: "s",
                                           nonce: nil, scopes: ["openid"], codeChallenge: "c", level: "SpidL1", forceFresh: false, maxAge: 60,
                                           userinfoClaims: ["given_name"], idTokenClaims: [], uiLocale: "it", expiresAt: t0 + 600)
        try await s.storeOIDCAuthorization(oidc)
        #expect(try await s.takeOIDCAuthorization(loginID: "l2", now: t0 + 600) == nil)   // expired
        try await s.storeOIDCAuthorization(oidc)   // the expired one is gone
        #expect(try await s.takeOIDCAuthorization(loginID: "l2", now: t0) == oidc)
        let nameID = SAMLNameIDRecord(sessionID: "s1", serviceProvider: "https://sp.example.it", nameID: "_n1", expiresAt: t0 + 60)
        try await s.recordSAMLNameID(nameID)
        try await s.recordSAMLNameID(SAMLNameIDRecord(sessionID: "s1", serviceProvider: "https://sp.example.it", nameID: "_n2", expiresAt: t0 + 60))
        #expect(try await s.takeSAMLNameID(sessionID: "s1", serviceProvider: "https://other.example.it", now: t0) == nil)
        #expect(try await s.takeSAMLNameID(sessionID: "s1", serviceProvider: "https://sp.example.it", now: t0) == nameID)   // the first stands
        let logout = SAMLLogoutRecord(id: "_state", requester: "https://sp.example.it", responseURL: "https://sp.example.it/slo", inResponseTo: "_lr",
                                      relayState: "rs", remaining: [.init(sessionID: "s1", serviceProvider: "https://a.example.it"),
                                                                    .init(sessionID: "s2", serviceProvider: "https://b.example.it")],
                                      failed: true, pendingRequestID: "_p", pendingServiceProvider: "https://c.example.it", expiresAt: t0 + 600)
        try await s.storeSAMLLogout(logout)
        #expect(try await s.takeSAMLLogout(id: "_state", now: t0) == logout)
        // Concurrent takers: exactly one gets the request.
        try await s.storeSAMLRequest(SAMLRequestRecord(loginID: "race", requestID: "_r", issuer: "i", issueInstant: t0, assertionConsumerServiceURL: "a",
                                                       relayState: "r", level: "SpidL1", comparison: "exact", forceAuthn: false, attributes: [],
                                                       profile: "saml2", expiresAt: t0 + 600))
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 { group.addTask { try await s.takeSAMLRequest(loginID: "race", now: t0) != nil } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(winners == 1)
        try await s.recordSAMLNameID(SAMLNameIDRecord(sessionID: "s9", serviceProvider: "x", nameID: "_n", expiresAt: t0 + 60))
        #expect(try await s.garbageCollect(now: t0 + 60, auditRetention: nil).frontEndRecords == 1)
    }

    static func gatewaySecrets(_ s: any GatewayStorage) async throws {
        let secret = GatewaySecretRecord(name: "oidc-subject-key", value: Data(repeating: 7, count: 32), createdAt: t0)
        #expect(try await s.gatewaySecret(name: "oidc-subject-key") == nil)
        try await s.createGatewaySecret(secret)
        await #expect(throws: StorageError(.alreadyExists, "")) {
            try await s.createGatewaySecret(GatewaySecretRecord(name: "oidc-subject-key", value: Data(repeating: 8, count: 32), createdAt: t0))
        }
        #expect(try await s.gatewaySecret(name: "oidc-subject-key") == secret)   // the first one stands
        #expect(try await !s.replaceGatewaySecretValue(name: "oidc-subject-key", expected: Data(repeating: 8, count: 32), with: Data([1])))
        #expect(try await s.replaceGatewaySecretValue(name: "oidc-subject-key", expected: Data(repeating: 7, count: 32), with: Data([2])))
        #expect(try await s.gatewaySecret(name: "oidc-subject-key")?.value == Data([2]))
    }

    static func registrations(_ s: any GatewayStorage) async throws {
        let sp = RegistrationRecord(kind: "saml-sp", id: "https://sp.example.it", json: Data(#"{"profile":"spid"}"#.utf8), createdAt: t0, updatedAt: t0)
        let client = RegistrationRecord(kind: "oidc-client", id: "https://sp.example.it", json: Data("{}".utf8), createdAt: t0 + 1, updatedAt: t0 + 1)
        try await s.addRegistration(sp)
        try await s.addRegistration(client)   // same id, other kind
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.addRegistration(sp) }
        #expect(try await s.registrations(kind: "saml-sp") == [sp])
        #expect(try await s.registration(kind: "oidc-client", id: "https://sp.example.it") == client)
        #expect(try await s.registration(kind: "saml-sp", id: "nope") == nil)
        let changed = try await s.updateRegistration(kind: "saml-sp", id: sp.id) { var r = $0; r.json = Data(#"{"profile":"saml2"}"#.utf8); r.updatedAt = t0 + 5; return r }
        #expect(changed.version == 1)
        #expect(try await s.registration(kind: "saml-sp", id: sp.id) == changed)
        let replaced = try await s.replaceRegistration(kind: "oidc-client", id: client.id, json: Data("{}".utf8), now: t0 + 6)
        #expect(replaced.json == Data("{}".utf8) && replaced.updatedAt == t0 + 6 && replaced.version == client.version + 1)
        try await s.removeRegistration(kind: "saml-sp", id: sp.id)
        await #expect(throws: StorageError(.notFound, "")) { try await s.removeRegistration(kind: "saml-sp", id: sp.id) }
        #expect(try await s.registrations(kind: "oidc-client").count == 1)
    }

    static func signingKeys(_ s: any GatewayStorage) async throws {
        let active = SigningKeyRecord(id: "k1", use: "oidc", algorithm: "RS256", privateKeyPEM: "-----BEGIN PRIVATE KEY-----", state: .active, createdAt: t0)
        let next = SigningKeyRecord(id: "k2", use: "oidc", algorithm: "RS256", privateKeyPEM: "pem2", state: .next, createdAt: t0 + 10)
        let saml = SigningKeyRecord(id: "s1", use: "saml", algorithm: "RS256", privateKeyPEM: "pem3", certificatePEM: "cert", state: .active, createdAt: t0)
        for key in [active, next, saml] { try await s.addSigningKey(key) }
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.addSigningKey(active) }
        // One next key per use and algorithm: a second instance rotating at the same moment uses the first one's.
        let rival = SigningKeyRecord(id: "k3", use: "oidc", algorithm: "RS256", privateKeyPEM: "pem4", state: .next, createdAt: t0 + 11)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.addSigningKey(rival) }
        #expect(try await s.signingKeys(use: "oidc") == [active, next])
        #expect(try await s.signingKeys(use: "saml") == [saml])
        let retired = try await s.updateSigningKey(id: "k1") { var r = $0; r.state = .retired; r.removeAfter = t0 + 100; return r }
        #expect(retired.version == 1 && retired.state == .retired)
        await #expect(throws: StorageError(.conflict, "")) { _ = try await s.updateSigningKey(id: "k2") { var r = $0; r.privateKeyPEM = "swapped"; return r } }
        let gc = try await s.garbageCollect(now: t0 + 100, auditRetention: nil)
        #expect(gc.signingKeys == 1)
        #expect(try await s.signingKeys(use: "oidc").map(\.id) == ["k2"])
    }
}
