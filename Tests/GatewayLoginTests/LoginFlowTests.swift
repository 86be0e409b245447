import Foundation
import GatewayLogin
import GatewayStorage
import LoginOutcome
import Testing

@Suite struct LoginFlowTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("level policy: higher than requested never fails; better needs strictly higher")
    func levelPolicy() {
        let all = SpidLevel.allCases
        for requested in all {
            for reached in all {
                #expect(LevelPolicy.satisfies(requested: requested, comparison: .minimum, reached: reached) == (reached >= requested))
                #expect(LevelPolicy.satisfies(requested: requested, comparison: .exact, reached: reached) == (reached >= requested))
                #expect(LevelPolicy.satisfies(requested: requested, comparison: .better, reached: reached) == (reached > requested))
                #expect(LevelPolicy.satisfies(requested: requested, comparison: .maximum, reached: reached))
            }
        }
    }

    /// The flow over the in-memory storage (which passes the storage conformance suite), on a fixed clock.
    func flow(now: Date = t0) throws -> LoginFlow {
        LoginFlow(storage: InMemoryGatewayStorage(), now: { now })
    }

    static let citizen = AuthenticatedCitizen(fiscalNumber: "TINIT-RCCMNL83S18D969H", codiceFiscale: "RCCMNL83S18D969H", name: "MANUEL", familyName: "RICCARDI",
                                              dateOfBirth: "1983-11-18", gender: "M", placeOfBirth: .init(code: "D969", name: "GENOVA", province: "GE"),
                                              cardId: nil)

    /// The card step's decision: accepted at `level` for the citizen above, or refused for `reason`.
    func decision(valid: Bool = true, level: SpidLevel = .spidL2, reason: String = "revoked", card: String = "aa") -> CardDecision {
        CardDecision(certificateFingerprint: card, decidedAt: Self.t0, refusal: valid ? nil : reason, level: valid ? level : nil,
                     citizen: valid ? Self.citizen : nil)
    }

    let request = LoginRequest(requester: "https://sp.example.it", level: .spidL2, attributes: ["fiscalNumber", "name"], returnPath: "/saml/continue")

    @Test("start → card → consent completes once; a replayed consent, another card and an unknown login fail")
    func happyPathAndReplays() async throws {
        let flow = try flow()
        let login = try await flow.start(request)
        #expect(login.state == .awaitingCard && login.expiresAt == Self.t0 + 600)
        let carded = try await flow.recordCard(login.id, decision: decision(card: "aa")).get()
        #expect(carded.state == .awaitingConsent && LoginFlow.decision(of: carded)?.certificateFingerprint == "aa")
        let token = try #require(carded.consentToken)
        // The same card again (a reload, the language switch): the consent page again, with the same token.
        let reloaded = try await flow.recordCard(login.id, decision: decision(card: "aa")).get()
        #expect(reloaded.state == .awaitingConsent && reloaded.consentToken == token)
        #expect(try await flow.recordCard(login.id, decision: decision(card: "bb")) == .failure(.wrongState(.awaitingConsent)))
        #expect(try await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: "") == .failure(.forgedConsent))
        #expect(try await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: LoginBinding.newSecret()) == .failure(.forgedConsent))
        #expect(try await flow.consent(login.id, approve: true, certificateFingerprint: "bb", token: token) == .failure(.differentCard))
        let done = try await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: token).get()
        #expect(done.state == .completed)
        #expect(try await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: token) == .failure(.wrongState(.completed)))
        #expect(try await flow.consent("nope", approve: true, certificateFingerprint: "aa", token: token) == .failure(.unknownLogin))
    }

    @Test("the card step starts from the login as this process started it, once; a held record out of date is decided on the stored one")
    func heldForTheCardStep() async throws {
        let storage = InMemoryGatewayStorage()
        let held = LoginsAwaitingCard(capacity: 2)
        let flow = LoginFlow(storage: storage, now: { Self.t0 }, awaitingCard: held)
        let login = try await flow.start(request)
        #expect(held.count == 1)
        // Held: the card step gets it without storage (removed behind the flow's back here), and only once.
        try await storage.deletePendingLogin(id: login.id)
        let taken = try await flow.pendingForCard(login.id).get()
        #expect(taken.id == login.id && taken.version == login.version && taken.createdAt == login.createdAt && held.count == 0)
        #expect(try await flow.pendingForCard(login.id) == .failure(.unknownLogin))
        // The update does not trust it: the login is gone, so the card is not recorded.
        #expect(try await flow.recordCard(taken, decision: decision()) == .failure(.unknownLogin))

        // Out of date: another instance refused a card for it meanwhile; the held record still says awaitingCard.
        let other = try await flow.start(request)
        _ = try await LoginFlow(storage: storage, now: { Self.t0 }).recordCard(other.id, decision: decision(valid: false))
        let stale = try await flow.pendingForCard(other.id).get()
        #expect(stale.state == .awaitingCard)
        #expect(try await flow.recordCard(stale, decision: decision()) == .failure(.wrongState(.failed)))
        #expect(try await storage.pendingLogin(id: other.id)?.state == .failed)

        // Current: the card is recorded as from a read.
        let third = try await flow.start(request)
        let carded = try await flow.recordCard(try await flow.pendingForCard(third.id).get(), decision: decision()).get()
        #expect(carded.state == .awaitingConsent && carded.version == third.version + 1 && carded.consentToken != nil)
        #expect(try await storage.pendingLogin(id: third.id) == carded)

        // Held records give way oldest first, and an expired one is refused as a stored one is.
        let a = try await flow.start(request), b = try await flow.start(request), c = try await flow.start(request)
        #expect(held.count == 2)
        try await storage.deletePendingLogin(id: a.id)
        #expect(try await flow.pendingForCard(a.id) == .failure(.unknownLogin))   // not held any more: read, and gone
        let late = LoginFlow(storage: storage, now: { Self.t0 + 601 }, awaitingCard: held)
        #expect(try await late.pendingForCard(b.id) == .failure(.expired))
        #expect(try await flow.pendingForCard(c.id).map(\.id) == .success(c.id))
    }

    @Test("a refused card, a level too low, a denial and an expired login each end the login with their reason")
    func failures() async throws {
        let flow = try flow()
        let a = try await flow.start(request)
        #expect(try await flow.recordCard(a.id, decision: decision(valid: false, reason: "revoked", card: "aa")) == .failure(.certificateRefused("revoked")))
        #expect(try await flow.storage.pendingLogin(id: a.id)?.state == .failed)
        let b = try await flow.start(request)
        #expect(try await flow.recordCard(b.id, decision: decision(level: .spidL1, card: "aa"))
                == .failure(.levelTooLow(reached: .spidL1, requested: .spidL2, comparison: .minimum)))
        let c = try await flow.start(request)
        let cc = try await flow.recordCard(c.id, decision: decision(level: .spidL3, card: "aa")).get()
        #expect(try await flow.consent(c.id, approve: false, certificateFingerprint: "aa", token: cc.consentToken ?? "") == .failure(.denied))
        #expect(try await flow.storage.pendingLogin(id: c.id)?.state == .failed)
        let d = try await flow.start(request)
        let later = LoginFlow(storage: flow.storage, now: { Self.t0 + 601 })
        #expect(try await later.recordCard(d.id, decision: decision(card: "aa")) == .failure(.expired))
        // An expired login keeps its state (nothing is written), and an unknown one is unknown.
        #expect(try await flow.storage.pendingLogin(id: d.id)?.state == .awaitingCard)
        #expect(try await flow.recordCard("nope", decision: decision(card: "aa")) == .failure(.unknownLogin))
        // A card after the login failed is refused with the state it is in, and changes nothing.
        #expect(try await flow.recordCard(a.id, decision: decision(card: "aa")) == .failure(.wrongState(.failed)))
        #expect(try await flow.storage.pendingLogin(id: a.id)?.card?.refusal == "revoked")
    }

    @Test("two concurrent consents: exactly one completes")
    func concurrentConsent() async throws {
        let flow = try flow()
        let login = try await flow.start(request)
        let token = try await flow.recordCard(login.id, decision: decision(card: "aa")).get().consentToken ?? ""
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { (try? await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: token).get()) != nil } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(results == 1)
    }
}

@Suite struct LoginBindingTests {
    let t0 = LoginFlowTests.t0
    let request = LoginRequest(requester: "https://sp.example.it", level: .spidL2, attributes: ["fiscalNumber"], returnPath: "/oidc/continue")

    @Test("a secret is 256 bits as 64 lowercase hex digits, and no two of 2,000 are alike")
    func secrets() {
        let secrets = (0..<2_000).map { _ in LoginBinding.newSecret() }
        #expect(Set(secrets).count == secrets.count)
        #expect(secrets.allSatisfy { $0.utf8.count == 64 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } })
        // Every hex digit shows up at every position across 2,000 secrets (a constant or short-range byte would not).
        for position in [0, 31, 63] { #expect(Set(secrets.map { $0.utf8[$0.utf8.index($0.utf8.startIndex, offsetBy: position)] }).count == 16) }
    }

    @Test("only the browser that started a login, holding the consenting browser's continuation secret, may finish it")
    func continuation() async throws {
        let flow = try LoginFlowTests().flow()
        let cookie = LoginBinding.newSecret()
        var bound = request
        bound.browserBinding = cookie
        let login = try await flow.start(bound)
        #expect(login.browserBinding == LoginBinding.digest(cookie) && login.browserBinding != cookie)
        // Before the card step: the starting browser may come back (the login ends as abandoned); nobody else.
        #expect(LoginFlow.mayContinue(login, bindingCookie: cookie, continuation: nil, now: t0))
        #expect(!LoginFlow.mayContinue(login, bindingCookie: LoginBinding.newSecret(), continuation: nil, now: t0))
        #expect(!LoginFlow.mayContinue(login, bindingCookie: nil, continuation: nil, now: t0))
        #expect(try await flow.issueContinuation(login.id) == nil)   // not ended yet
        // Past its expiry before the card step: still its own browser's to end (the service is told it timed out)
        // while the login is kept, and nobody else's; abandoned before that.
        #expect(LoginFlow.ending(of: login, now: t0) == .abandoned && LoginFlow.ending(of: login, now: login.expiresAt) == .timedOut)
        #expect(LoginFlow.mayContinue(login, bindingCookie: cookie, continuation: nil, now: login.expiresAt + 60))
        #expect(!LoginFlow.mayContinue(login, bindingCookie: LoginBinding.newSecret(), continuation: nil, now: login.expiresAt + 60))
        #expect(!LoginFlow.mayContinue(login, bindingCookie: cookie, continuation: nil, now: login.expiresAt + PendingLoginRecord.keptAfterExpiry))
        let late = LoginFlow(storage: flow.storage, now: { login.expiresAt + 1 })
        #expect(try await late.result(of: login) == .ended(.timedOut))

        let carded = try await flow.recordCard(login.id, decision: LoginFlowTests().decision()).get()
        let done = try await flow.consent(login.id, approve: true, certificateFingerprint: "aa", token: carded.consentToken ?? "").get()
        let secret = try #require(try await flow.issueContinuation(login.id))
        #expect(try await flow.issueContinuation(login.id) == nil)   // issued once
        let stored = try #require(try await flow.storage.pendingLogin(id: done.id))
        #expect(stored.continuationHash == LoginBinding.digest(secret))
        #expect(LoginFlow.mayContinue(stored, bindingCookie: cookie, continuation: secret, now: t0))
        // The attacker's browser: the binding but not the secret. The victim's: the secret but not the binding.
        #expect(!LoginFlow.mayContinue(stored, bindingCookie: cookie, continuation: nil, now: t0))
        #expect(!LoginFlow.mayContinue(stored, bindingCookie: cookie, continuation: LoginBinding.newSecret(), now: t0))
        #expect(!LoginFlow.mayContinue(stored, bindingCookie: nil, continuation: secret, now: t0))
        #expect(!LoginFlow.mayContinue(stored, bindingCookie: cookie, continuation: secret, now: t0 + 601))
        // A login started without a binding (an older record) can never be finished.
        let unbound = try await flow.start(request)
        #expect(!LoginFlow.mayContinue(unbound, bindingCookie: cookie, continuation: nil, now: t0))
    }
}

extension Result: @retroactive Equatable where Success == PendingLoginRecord, Failure == LoginFailure {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x == y
        case (.failure(let x), .failure(let y)): x == y
        default: false
        }
    }
}
