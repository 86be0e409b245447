import Foundation
import GatewayStorage
import Testing

extension StorageConformance {
    static func grantRecord(_ id: String, expires: Date = t0 + 3600) -> OAuthGrantRecord {
        OAuthGrantRecord(id: id, clientID: "https://rp.example.it", redirectURI: "https://rp.example.it/cb", codeChallenge: "challenge", nonce: nil,
                         scopes: ["openid", "profile", "offline_access"], level: "SpidL2", authTime: t0 - 5, subject: "sub-1", sessionID: "session-1",
                         userinfoClaims: ["given_name", "place_of_birth"], idTokenClaims: [],
                         released: ReleasedAttributes(givenName: "Manuel", birthPlace: "D969", birthProvince: "GE"), expiresAt: expires)
    }

    static func grants(_ s: any GatewayStorage) async throws {
        let grant = grantRecord("g1")
        let code = OAuthTokenRecord(kind: .authorizationCode, id: "code-hash", grantID: "g1", expiresAt: t0 + 60)
        try await s.createGrant(grant, code: code)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.createGrant(grant, code: code) }
        #expect(try await s.grant(id: "g1", now: t0) == grant)   // every field, typed, as written
        #expect(try await s.grant(id: "g1", now: t0 + 3600) == nil)   // expired
        #expect(try await s.grantToken(.refreshToken, id: "code-hash", now: t0) == nil)   // kinds are apart
        #expect(try await s.grantToken(.authorizationCode, id: "code-hash", now: t0)?.spentAt == nil)   // a read spends nothing

        #expect(try await s.redeemGrantToken(.authorizationCode, id: "code-hash", now: t0 + 60) == .notFound)   // expired
        #expect(try await s.redeemGrantToken(.authorizationCode, id: "code-hash", now: t0 + 1) == .redeemed(grantID: "g1", grant: grant))
        #expect(try await s.redeemGrantToken(.authorizationCode, id: "code-hash", now: t0 + 2) == .replayed(grantID: "g1"))
        #expect(try await s.grantToken(.authorizationCode, id: "code-hash", now: t0 + 2)?.spentAt == t0 + 1)

        // Refresh tokens of the grant; revocation is its own state (the grant stays readable, its tokens stop working).
        try await s.storeGrantToken(OAuthTokenRecord(kind: .refreshToken, id: "r1", grantID: "g1", expiresAt: t0 + 3600))
        await #expect(throws: StorageError(.alreadyExists, "")) {
            try await s.storeGrantToken(OAuthTokenRecord(kind: .refreshToken, id: "r1", grantID: "g1", expiresAt: t0 + 3600))
        }
        #expect(try await s.revokeGrant(id: "g1", now: t0 + 10))
        #expect(try await !s.revokeGrant(id: "g1", now: t0 + 11))   // once
        #expect(try await !s.revokeGrant(id: "unknown", now: t0 + 11))
        #expect(try await s.grant(id: "g1", now: t0 + 12)?.revokedAt == t0 + 10)
        #expect(try await s.redeemGrantToken(.refreshToken, id: "r1", now: t0 + 12) == .redeemed(grantID: "g1", grant: nil))

        // Concurrent redemptions of one refresh token: exactly one wins, the others see a replay.
        try await s.createGrant(grantRecord("g2"), code: OAuthTokenRecord(kind: .authorizationCode, id: "c2", grantID: "g2", expiresAt: t0 + 60))
        try await s.storeGrantToken(OAuthTokenRecord(kind: .refreshToken, id: "race", grantID: "g2", expiresAt: t0 + 3600))
        let outcomes = try await withThrowingTaskGroup(of: OAuthTokenRedemption.self) { group in
            for _ in 0..<16 { group.addTask { try await s.redeemGrantToken(.refreshToken, id: "race", now: t0) } }
            return try await group.reduce(into: [OAuthTokenRedemption]()) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .redeemed = $0 { true } else { false } }.count == 1)
        #expect(outcomes.filter { $0 == .replayed(grantID: "g2") }.count == 15)

        // Session identifiers: the first record of a sid stands.
        try await s.recordSessionIdentifier("sid-1", sessionID: "session-1", expiresAt: t0 + 1800)
        try await s.recordSessionIdentifier("sid-1", sessionID: "session-2", expiresAt: t0 + 1800)
        #expect(try await s.sessionID(forSessionIdentifier: "sid-1", now: t0) == "session-1")
        #expect(try await s.sessionID(forSessionIdentifier: "sid-1", now: t0 + 1800) == nil)

        // Housekeeping removes expired grants with their tokens, and expired sids.
        let collected = try await s.garbageCollect(now: t0 + 3600, auditRetention: nil)
        #expect(collected.grants == 4 + 2 + 1)   // four tokens (two codes, two refresh tokens), two grants, one sid
        #expect(try await s.grantToken(.refreshToken, id: "race", now: t0) == nil)
        #expect(try await s.grant(id: "g2", now: t0) == nil)
    }
}
