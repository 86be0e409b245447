import Foundation
import GatewayAudit
import GatewayStorage
import Testing

extension StorageConformance {
    /// Two storage objects on one database — what two gateway instances are — writing at once: one audit chain without
    /// fork or gap, one winner of each one-time redemption and replay-cache entry, no lost compare-and-swap update,
    /// and each sees what the other wrote.
    public static func sharedDatabase(_ a: any GatewayStorage, _ b: any GatewayStorage) async throws {
        try await a.createPendingLogin(login("both"))
        try await a.createGrant(grantRecord("shared-grant"), code: OAuthTokenRecord(kind: .authorizationCode, id: "shared-code", grantID: "shared-grant",
                                                                                     expiresAt: Date() + 600))
        let instances = [a, b]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, s) in instances.enumerated() {
                let log = AuditLog(storage: s)
                for w in 0..<4 {
                    group.addTask { for i in 0..<25 { try await log.append(kind: "login", fields: ["instance": "\(n)", "writer": "\(w)", "i": "\(i)"]) } }
                    group.addTask { try await updateTenTimes(s, id: "both") }
                }
            }
            try await group.waitForAll()
        }
        let records = try await b.auditRecords(since: nil, limit: nil)
        #expect(records.count == 200)
        #expect(AuditLog.verify(records) == .intact(records: 200, firstSequence: 1))
        #expect(try await a.pendingLogin(id: "both")?.version == 80)

        let redemptions = try await withThrowingTaskGroup(of: OAuthTokenRedemption.self) { group in
            for i in 0..<16 { group.addTask { try await instances[i % 2].redeemGrantToken(.authorizationCode, id: "shared-code", now: Date()) } }
            return try await group.reduce(into: [OAuthTokenRedemption]()) { $0.append($1) }
        }
        #expect(redemptions.filter { if case .redeemed = $0 { true } else { false } }.count == 1)
        #expect(redemptions.filter { $0 == .replayed(grantID: "shared-grant") }.count == 15)

        let firsts = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<16 { group.addTask { try await instances[i % 2].rememberOnce(namespace: "race", key: "both", now: t0, expiresAt: t0 + 60) } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(firsts == 1)

        try await a.storeSAMLRequest(SAMLRequestRecord(loginID: "taken-once", requestID: "_r", issuer: "https://sp", issueInstant: t0,
                                                       assertionConsumerServiceURL: "https://sp/acs", relayState: nil, level: "SpidL2", comparison: "minimum",
                                                       forceAuthn: false, attributes: [], profile: "spid", expiresAt: Date() + 600))
        let takers = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 { group.addTask { try await instances[i % 2].takeSAMLRequest(loginID: "taken-once", now: Date()) != nil } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(takers == 1)

        // Two instances rotating at once publish one next key between them.
        let published = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let key = SigningKeyRecord(id: "next-\(i)", use: "saml", algorithm: "RS256", privateKeyPEM: "pem", state: .next, createdAt: t0)
                    do { try await instances[i % 2].addSigningKey(key); return true } catch let e as StorageError where e.code == .alreadyExists { return false }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(published == 1)
        #expect(try await b.signingKeys(use: "saml").filter { $0.state == .next }.count == 1)

        let ca = TrustedCARecord(id: "seen-by-both", name: "CA", certificateDER: Data([1]), policyJSON: Data("{}".utf8), addedAt: t0)
        try await b.addTrustedCA(ca)
        #expect(try await a.trustedCA(id: "seen-by-both") == ca)
    }
}
