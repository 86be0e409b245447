import Foundation
import GatewayLogin
import GatewayStorage
import LoginOutcome
import Testing

@Suite struct SingleSignOnTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func flow(now: Date = t0, storage: (any GatewayStorage)? = nil) throws -> LoginFlow {
        LoginFlow(storage: storage ?? InMemoryGatewayStorage(), now: { now })
    }

    func decision(level: SpidLevel, card: String) -> CardDecision {
        CardDecision(certificateFingerprint: card, decidedAt: Self.t0, refusal: nil, level: level, citizen: LoginFlowTests.citizen)
    }

    func completed(_ flow: LoginFlow, level: SpidLevel, requester: String = "https://sp1.example.it") async throws -> PendingLoginRecord {
        let login = try await flow.start(LoginRequest(requester: requester, level: level, attributes: ["fiscalNumber"], forceFresh: false,
                                                      returnPath: "/continue"))
        let carded = try await flow.recordCard(login.id, decision: decision(level: .spidL2, card: "card-a")).get()
        return try await flow.consent(login.id, approve: true, certificateFingerprint: "card-a", token: carded.consentToken ?? "").get()
    }

    @Test("the default policy opens a session only for SpidL1 requests; L2 and L3 neither open nor use one")
    func onlyL1ByDefault() async throws {
        let flow = try flow()
        let policy = SessionPolicy()
        #expect(try await flow.openSession(after: try await completed(flow, level: .spidL2), policy: policy) == nil)
        let opened = try #require(try await flow.openSession(after: try await completed(flow, level: .spidL1), policy: policy))
        #expect(opened.record.id == LoginFlow.sessionID(cookieValue: opened.cookieValue) && opened.record.id != opened.cookieValue)
        #expect(opened.record.certificateFingerprint == "card-a" && opened.record.expiresAt == Self.t0 + 1800)
        #expect(try await flow.storage.session(id: opened.record.id) != nil)

        let l2 = try await flow.start(LoginRequest(requester: "https://sp2.example.it", level: .spidL2, attributes: [], forceFresh: false, returnPath: "/c"))
        #expect(try await flow.resumeFromSession(l2.id, cookieValue: opened.cookieValue, presentedFingerprint: "card-a", policy: policy) == nil)
        #expect(try await flow.openSession(after: try await completed(flow, level: .spidL1), policy: SessionPolicy(levels: [])) == nil)
    }

    @Test("a session continues an L1 login only with the same card, while alive, and never for a force-fresh request")
    func resumeRules() async throws {
        let storage = InMemoryGatewayStorage()
        let flow = try flow(storage: storage)
        let policy = SessionPolicy()
        let opened = try #require(try await flow.openSession(after: try await completed(flow, level: .spidL1), policy: policy))
        func start(forceFresh: Bool = false) async throws -> PendingLoginRecord {
            try await flow.start(LoginRequest(requester: "https://sp2.example.it", level: .spidL1, attributes: ["name"], forceFresh: forceFresh, returnPath: "/c"))
        }
        let other = try await start()
        #expect(try await flow.resumeFromSession(other.id, cookieValue: opened.cookieValue, presentedFingerprint: "card-b", policy: policy) == nil)
        #expect(try await flow.resumeFromSession(other.id, cookieValue: opened.cookieValue, presentedFingerprint: nil, policy: policy) == nil)
        #expect(try await flow.resumeFromSession(other.id, cookieValue: "forged", presentedFingerprint: "card-a", policy: policy) == nil)
        let fresh = try await start(forceFresh: true)
        #expect(try await flow.resumeFromSession(fresh.id, cookieValue: opened.cookieValue, presentedFingerprint: "card-a", policy: policy) == nil)

        let resumed = try #require(try await flow.resumeFromSession(other.id, cookieValue: opened.cookieValue, presentedFingerprint: "card-a", policy: policy))
        #expect(resumed.state == .awaitingConsent)
        let decision = try #require(LoginFlow.decision(of: resumed))
        #expect(decision.sessionID == opened.record.id && decision.decidedAt == Self.t0 && decision.certificateFingerprint == "card-a")
        #expect(decision.citizen == LoginFlowTests.citizen && decision.level == .spidL2)
        #expect(try await storage.session(id: opened.record.id)?.participants == ["https://sp1.example.it", "https://sp2.example.it"])

        let late = try self.flow(now: Self.t0 + 1801, storage: storage)
        let afterExpiry = try await late.start(LoginRequest(requester: "x", level: .spidL1, attributes: [], forceFresh: false, returnPath: "/c"))
        #expect(try await late.resumeFromSession(afterExpiry.id, cookieValue: opened.cookieValue, presentedFingerprint: "card-a", policy: policy) == nil)
        try await flow.endSession(cookieValue: opened.cookieValue)
        #expect(try await storage.session(id: opened.record.id) == nil)
        try await flow.endSession(cookieValue: opened.cookieValue)   // ending twice is harmless
    }
}
