import Foundation
import GatewayStorage
import Testing

// Conformance for sessions, one-time codes, registrations and signing keys.
extension StorageConformance {
    static func sessions(_ s: any GatewayStorage) async throws {
        let session = SessionRecord(id: "h1", certificateFingerprint: "fp", level: "SpidL1", outcomeJSON: Data("{}".utf8), authenticatedAt: t0,
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

    static func oneTimeCodes(_ s: any GatewayStorage) async throws {
        let code = OneTimeCodeRecord(namespace: "oidc-code", id: "c1", payload: Data("grant".utf8), expiresAt: t0 + 60)
        try await s.storeOneTimeCode(code)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.storeOneTimeCode(code) }
        #expect(try await s.redeemOneTimeCode(namespace: "other", id: "c1", now: t0) == .notFound)
        #expect(try await s.oneTimeCode(namespace: "oidc-code", id: "c1", now: t0)?.consumedAt == nil)   // a read spends nothing
        #expect(try await s.oneTimeCode(namespace: "oidc-code", id: "c1", now: t0 + 60) == nil)   // expired
        guard case .redeemed(let first) = try await s.redeemOneTimeCode(namespace: "oidc-code", id: "c1", now: t0 + 1) else {
            Issue.record("first redemption refused"); return
        }
        #expect(first.payload == Data("grant".utf8) && first.consumedAt == t0 + 1)
        guard case .alreadyRedeemed(let again) = try await s.redeemOneTimeCode(namespace: "oidc-code", id: "c1", now: t0 + 2) else {
            Issue.record("a replayed code was not reported"); return
        }
        #expect(again.consumedAt == t0 + 1)
        #expect(try await s.oneTimeCode(namespace: "oidc-code", id: "c1", now: t0 + 2)?.consumedAt == t0 + 1)
        try await s.storeOneTimeCode(OneTimeCodeRecord(namespace: "oidc-code", id: "c2", payload: Data(), expiresAt: t0 + 60))
        #expect(try await s.redeemOneTimeCode(namespace: "oidc-code", id: "c2", now: t0 + 60) == .notFound)   // expired
        // Concurrent redemptions: exactly one wins.
        try await s.storeOneTimeCode(OneTimeCodeRecord(namespace: "oidc-code", id: "race", payload: Data(), expiresAt: t0 + 60))
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    if case .redeemed = try await s.redeemOneTimeCode(namespace: "oidc-code", id: "race", now: t0) { return true }
                    return false
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(winners == 1)
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
