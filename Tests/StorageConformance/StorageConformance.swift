import Foundation
import GatewayAudit
import GatewayStorage
import Testing

/// The behaviour every ``GatewayStorage`` backend must show. A backend's tests call
/// `try await StorageConformance.run { try await makeFreshStorage() }` (the dex / SQLKitBenchmark pattern).
public enum StorageConformance {
    public static func run(_ make: @Sendable () async throws -> any GatewayStorage) async throws {
        try await trustedCAs(make())
        try await pendingLogins(make())
        try await replayCache(make())
        try await auditChain(make())
        try await garbageCollection(make())
        try await concurrentWriters(make())
        try await sessions(make())
        try await frontEndRequests(make())
        try await grants(make())
        try await registrations(make())
        try await gatewaySecrets(make())
        try await signingKeys(make())
    }

    public static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    static func trustedCAs(_ s: any GatewayStorage) async throws {
        let ca = TrustedCARecord(id: "ab12", name: "Regione Test", certificateDER: Data([0x30, 1, 2]), policyJSON: Data("{}".utf8), addedAt: t0)
        try await s.addTrustedCA(ca)
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.addTrustedCA(ca) }
        #expect(try await s.trustedCAs() == [ca])
        #expect(try await s.trustedCA(id: "ab12") == ca)
        #expect(try await s.trustedCA(id: "nope") == nil)
        let renamed = try await s.updateTrustedCA(id: "ab12") { var c = $0; c.name = "Regione Toscana"; return c }
        #expect(renamed.name == "Regione Toscana")
        #expect(try await s.trustedCA(id: "ab12")?.name == "Regione Toscana")
        await #expect(throws: StorageError(.notFound, "")) { _ = try await s.updateTrustedCA(id: "nope") { $0 } }
        try await s.removeTrustedCA(id: "ab12")
        await #expect(throws: StorageError(.notFound, "")) { try await s.removeTrustedCA(id: "ab12") }
        #expect(try await s.trustedCAs().isEmpty)

        // A batch is all or nothing.
        let a = TrustedCARecord(id: "a", name: "A", certificateDER: Data([1]), policyJSON: Data("{}".utf8), addedAt: t0)
        let b = TrustedCARecord(id: "b", name: "B", certificateDER: Data([2]), policyJSON: Data("{}".utf8), addedAt: t0 + 1)
        try await s.applyTrustChanges(adding: [a, b], removing: [])
        await #expect(throws: StorageError(.notFound, "")) { try await s.applyTrustChanges(adding: [ca], removing: ["a", "missing"]) }
        #expect(try await s.trustedCAs().map(\.id) == ["a", "b"])
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.applyTrustChanges(adding: [ca, b], removing: ["a"]) }
        #expect(try await s.trustedCAs().map(\.id) == ["a", "b"])
        try await s.applyTrustChanges(adding: [ca], removing: ["a", "b"])
        #expect(try await s.trustedCAs() == [ca])
    }

    public static func login(_ id: String, expires: Date = t0 + 600) -> PendingLoginRecord {
        PendingLoginRecord(id: id, requester: "https://sp.example.it", requestedLevel: "SpidL2", comparison: "minimum",
                           attributes: ["fiscalNumber", "name"], forceFresh: true, returnPath: "/saml/continue", createdAt: t0, expiresAt: expires)
    }

    static let citizen = CitizenRecord(fiscalNumber: "TINIT-RCCMNL83S18D969H", codiceFiscale: "RCCMNL83S18D969H", name: "MANUEL", familyName: nil,
                                       dateOfBirth: "1983-11-18", gender: "M", birthPlace: "D969", birthPlaceName: "GENOVA", birthProvince: "GE",
                                       cardID: "6120016461039008")
    /// Every column of the card decision filled but one optional, so a lost column shows.
    static let card = CardOutcomeRecord(certificateFingerprint: "aa", decidedAt: t0 - 3, refusal: nil, level: "SpidL2", citizen: citizen, sessionID: "s9")

    static func pendingLogins(_ s: any GatewayStorage) async throws {
        try await s.createPendingLogin(login("p1"))
        await #expect(throws: StorageError(.alreadyExists, "")) { try await s.createPendingLogin(login("p1")) }
        #expect(try await s.pendingLogin(id: "p1") == login("p1"))
        let updated = try await s.updatePendingLogin(id: "p1") { var r = $0; r.state = .awaitingConsent; r.card = card; return r }
        #expect(updated.version == 1 && updated.state == .awaitingConsent && updated.card == card)
        #expect(try await s.pendingLogin(id: "p1") == updated)
        // When a login started and when it expires are fixed: an update keeps them as stored.
        let moved = try await s.updatePendingLogin(id: "p1") { var r = $0; r.createdAt = t0 + 5; r.expiresAt = t0 + 9_999; r.returnPath = "/moved"; return r }
        #expect(moved.createdAt == t0 && moved.expiresAt == t0 + 600 && moved.returnPath == "/moved" && moved.version == 2)
        #expect(try await s.pendingLogin(id: "p1") == moved)
        await #expect(throws: StorageError(.notFound, "")) { _ = try await s.updatePendingLogin(id: "p2") { $0 } }
        try await updatesFromARead(s, stale: updated, current: moved)
        try await s.deletePendingLogin(id: "p1")
        #expect(try await s.pendingLogin(id: "p1") == nil)
        await #expect(throws: StorageError(.notFound, "")) { _ = try await s.updatePendingLogin(from: moved) { $0 } }
    }

    struct NotAwaitingConsent: Error {}

    /// `updatePendingLogin(from:_:)` gives what `updatePendingLogin(id:_:)` gives, whether the read is current or stale.
    static func updatesFromARead(_ s: any GatewayStorage, stale: PendingLoginRecord, current: PendingLoginRecord) async throws {
        // Current: applied to the read, the fixed fields kept as stored.
        let fresh = try await s.updatePendingLogin(from: current) { var r = $0; r.returnPath += "/a"; r.expiresAt = t0 + 1; return r }
        #expect(fresh.version == current.version + 1 && fresh.returnPath == current.returnPath + "/a" && fresh.expiresAt == current.expiresAt)
        #expect(try await s.pendingLogin(id: current.id) == fresh)
        // Stale: applied to the stored record, not to the read (whose returnPath is older).
        let afterStale = try await s.updatePendingLogin(from: stale) { var r = $0; r.returnPath += "/b"; return r }
        #expect(afterStale.version == fresh.version + 1 && afterStale.returnPath == fresh.returnPath + "/b")
        #expect(try await s.pendingLogin(id: current.id) == afterStale)
        // An updater that refuses the stale read but accepts the stored record succeeds; one that refuses the stored
        // record fails with its own error and changes nothing.
        var waiting = stale
        waiting.state = .awaitingCard
        let accepted = try await s.updatePendingLogin(from: waiting) { r in
            guard r.state == .awaitingConsent else { throw NotAwaitingConsent() }
            var next = r; next.state = .failed; return next
        }
        #expect(accepted.state == .failed && accepted.version == afterStale.version + 1)
        await #expect(throws: NotAwaitingConsent.self) {
            _ = try await s.updatePendingLogin(from: accepted) { r in
                guard r.state == .awaitingConsent else { throw NotAwaitingConsent() }
                return r
            }
        }
        #expect(try await s.pendingLogin(id: current.id) == accepted)
        await #expect(throws: StorageError(.conflict, "")) { _ = try await s.updatePendingLogin(from: accepted) { var r = $0; r.id = "other"; return r } }
        #expect(try await s.pendingLogin(id: current.id) == accepted)
    }

    static func replayCache(_ s: any GatewayStorage) async throws {
        #expect(try await s.rememberOnce(namespace: "saml-request", key: "_id1", now: t0, expiresAt: t0 + 300))
        #expect(try await !s.rememberOnce(namespace: "saml-request", key: "_id1", now: t0 + 10, expiresAt: t0 + 300))
        #expect(try await s.rememberOnce(namespace: "oidc-jti", key: "_id1", now: t0 + 10, expiresAt: t0 + 300))
        #expect(try await s.rememberOnce(namespace: "saml-request", key: "_id1", now: t0 + 301, expiresAt: t0 + 900))
    }

    static func auditChain(_ s: any GatewayStorage) async throws {
        let log = AuditLog(storage: s, now: { t0 })
        for i in 0..<20 { try await log.append(kind: i % 2 == 0 ? "login" : "admin", fields: ["i": "\(i)", "result": "ok"]) }
        let records = try await s.auditRecords(since: nil, limit: nil)
        #expect(records.map(\.sequence) == Array(1...20))
        #expect(AuditLog.verify(records) == .intact(records: 20, firstSequence: 1))
        #expect(try await s.auditRecords(since: nil, limit: 5).count == 5)
        // A stale head cannot be appended after: the chain never forks.
        let stale = AuditRecord(sequence: 5, time: t0, kind: "login", payload: Data(), previousHash: records[3].hash, hash: "x")
        await #expect(throws: StorageError(.conflict, "")) { try await s.appendAudit(stale) }
        // A batch that does not chain is refused as a whole.
        let before = try await s.auditRecords(since: nil, limit: nil).count
        await #expect(throws: StorageError(.conflict, "")) {
            _ = try await s.appendAudit { head in
                let first = AuditRecord(sequence: head!.sequence + 1, time: t0, kind: "login", payload: Data(), previousHash: head!.hash, hash: "h1")
                return [first, AuditRecord(sequence: first.sequence + 1, time: t0, kind: "login", payload: Data(), previousHash: "not-h1", hash: "h2")]
            }
        }
        #expect(try await s.auditRecords(since: nil, limit: nil).count == before)
        // Tampering is detected.
        var tampered = records
        tampered[7].payload = Data(#"{"i":"7","result":"forged"}"#.utf8)
        #expect(AuditLog.verify(tampered) == .broken(sequence: 8, reason: "its content does not match its hash: it was altered"))
        var removed = records
        removed.remove(at: 10)
        if case .broken(let at, _) = AuditLog.verify(removed) { #expect(at == 12) } else { Issue.record("a removed record went unnoticed") }
        let jsonl = AuditLog.export(records, format: .jsonl)
        #expect(jsonl.split(separator: "\n").count == 20 && jsonl.contains("\"result\":\"ok\""))
        #expect(AuditLog.export(records, format: .csv).split(separator: "\n").count == 21)
    }

    static func garbageCollection(_ s: any GatewayStorage) async throws {
        try await s.createPendingLogin(login("old", expires: t0 + 10))
        try await s.createPendingLogin(login("new", expires: t0 + 1000))
        _ = try await s.rememberOnce(namespace: "n", key: "k", now: t0, expiresAt: t0 + 10)
        try await s.createSession(SessionRecord(id: "s", certificateFingerprint: "f", level: "SpidL1", citizen: citizen, authenticatedAt: t0, expiresAt: t0 + 10))
        try await s.recordSAMLNameID(SAMLNameIDRecord(sessionID: "s", serviceProvider: "sp", nameID: "n", expiresAt: t0 + 10))
        let log = AuditLog(storage: s, now: { t0 })
        try await log.append(kind: "login", fields: [:])
        let later = AuditLog(storage: s, now: { t0 + 86_400 * 800 })
        try await later.append(kind: "login", fields: [:])
        let soon = try await s.garbageCollect(now: t0 + 100, auditRetention: nil)
        #expect(soon.pendingLogins == 0 && soon.replayEntries == 1 && soon.auditRecords == 0 && soon.sessions == 1 && soon.frontEndRecords == 1)
        // An expired login stays a while, so its browser can come back and the service be told it timed out.
        #expect(try await s.pendingLogin(id: "old") != nil)
        let afterKeeping = try await s.garbageCollect(now: t0 + 10 + PendingLoginRecord.keptAfterExpiry, auditRetention: nil)
        #expect(afterKeeping.pendingLogins == 1)
        #expect(try await s.pendingLogin(id: "new") != nil)
        #expect(try await s.pendingLogin(id: "old") == nil)
        let result = try await s.garbageCollect(now: t0 + 86_400 * 800, auditRetention: 86_400 * 730)
        #expect(result.auditRecords == 1)
        let remaining = try await s.auditRecords(since: nil, limit: nil)
        #expect(remaining.count == 1 && AuditLog.verify(remaining) == .intact(records: 1, firstSequence: 2))
    }

    static func concurrentWriters(_ s: any GatewayStorage) async throws {
        try await s.createPendingLogin(login("shared"))
        let log = AuditLog(storage: s)
        // Each append returns the record as stored (group commit: the first of a burst is stored alone, the rest together).
        let returned = try await withThrowingTaskGroup(of: [AuditRecord].self) { group in
            for w in 0..<8 {
                group.addTask {
                    var mine: [AuditRecord] = []
                    for i in 0..<25 { mine.append(try await log.append(kind: "login", fields: ["writer": "\(w)", "i": "\(i)"])) }
                    return mine
                }
                group.addTask { try await updateTenTimes(s, id: "shared"); return [] }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let records = try await s.auditRecords(since: nil, limit: nil)
        #expect(records.count == 200)
        #expect(Set(returned.map(\.hash)) == Set(records.map(\.hash)) && Set(returned.map(\.sequence)).count == 200)
        #expect(AuditLog.verify(records) == .intact(records: 200, firstSequence: 1))
        #expect(try await s.pendingLogin(id: "shared")?.version == 80)
        let firsts = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 { group.addTask { try await s.rememberOnce(namespace: "race", key: "same", now: t0, expiresAt: t0 + 60) } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(firsts == 1)
    }

    /// Ten compare-and-swap updates of one pending login, each retried on `.conflict` until it lands.
    static func updateTenTimes(_ s: any GatewayStorage, id: String) async throws {
        for _ in 0..<10 {
            while true {
                do { _ = try await s.updatePendingLogin(id: id) { $0 }; break } catch let e as StorageError where e.code == .conflict { continue }
            }
        }
    }
}
