import LoginOutcome
import Foundation
import GatewayStorage

/// What a protocol front end asks of a login.
public struct LoginRequest: Sendable, Hashable {
    public var requester: String
    public var level: SpidLevel
    public var comparison: LevelComparison
    public var attributes: [String]
    public var forceFresh: Bool
    /// Where the browser goes when the login ends (the front end's continuation), with `?login=ID` appended.
    public var returnPath: String
    public var lifetime: TimeInterval
    /// The secret the front end set in the starting browser's binding cookie (see ``LoginBinding``).
    public var browserBinding: String?

    /// A front end's login start, returning to `returnPath`.
    public init(_ start: LoginStart, returnPath: String, lifetime: TimeInterval) {
        self.init(requester: start.requester, level: start.level, comparison: start.comparison, attributes: start.attributes, forceFresh: start.forceFresh,
                  returnPath: returnPath, lifetime: lifetime)
    }

    public init(requester: String, level: SpidLevel, comparison: LevelComparison = .minimum, attributes: [String], forceFresh: Bool = true,
                returnPath: String, lifetime: TimeInterval = 600, browserBinding: String? = nil) {
        self.browserBinding = browserBinding
        self.requester = requester
        self.level = level
        self.comparison = comparison
        self.attributes = attributes
        self.forceFresh = forceFresh
        self.returnPath = returnPath
        self.lifetime = lifetime
    }
}

/// Why a login cannot go on.
public enum LoginFailure: Error, Sendable, Hashable {
    case unknownLogin
    case expired
    /// The step does not fit the login's state (a replayed consent, a second card for a finished login).
    case wrongState(PendingLoginRecord.State)
    /// The card was refused (the validation's reason, e.g. `revoked`).
    case certificateRefused(String)
    case levelTooLow(reached: SpidLevel, requested: SpidLevel, comparison: LevelComparison)
    /// The consent came with another card than the one that was checked.
    case differentCard
    case denied
    /// The consent form's anti-forgery token was missing or wrong (a cross-site or replayed form).
    case forgedConsent
}

/// The protocol-agnostic login: a front end starts it, the card listener records the card decision, the citizen
/// consents, and the front end reads the outcome. Every step is a compare-and-swap on the stored pending login,
/// so a restart keeps it and a replayed step fails.
public struct LoginFlow: Sendable {
    public let storage: any GatewayStorage
    public let now: @Sendable () -> Date
    /// Where ``start(_:)`` leaves the logins it starts for their card step (``pendingForCard(_:)``); nil: nowhere.
    public let awaitingCard: LoginsAwaitingCard?

    public init(storage: any GatewayStorage, now: @escaping @Sendable () -> Date = { Date() }, awaitingCard: LoginsAwaitingCard? = nil) {
        self.storage = storage
        self.now = now
        self.awaitingCard = awaitingCard
    }

    public func start(_ request: LoginRequest) async throws -> PendingLoginRecord {
        var random = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(random.next() as UInt32, radix: 36) }.joined(separator: "-")
        let record = PendingLoginRecord(id: id, requester: request.requester, requestedLevel: request.level.rawValue,
                                        comparison: request.comparison.rawValue, attributes: request.attributes, forceFresh: request.forceFresh,
                                        returnPath: request.returnPath, createdAt: now(), expiresAt: now() + request.lifetime,
                                        browserBinding: request.browserBinding.map(LoginBinding.digest))
        try await storage.createPendingLogin(record)
        awaitingCard?.hold(record)
        return record
    }

    /// The login, if it exists and has not expired.
    public func pending(_ id: String) async throws -> Result<PendingLoginRecord, LoginFailure> {
        guard let record = try await storage.pendingLogin(id: id) else { return .failure(.unknownLogin) }
        return unexpired(record)
    }

    /// ``pending(_:)`` for the card step, which records the card with ``recordCard(_:decision:)-(PendingLoginRecord,_)``:
    /// the login as this process started it when it still holds it (``LoginsAwaitingCard``), else as stored.
    public func pendingForCard(_ id: String) async throws -> Result<PendingLoginRecord, LoginFailure> {
        if let held = awaitingCard?.take(id) { return unexpired(held) }
        return try await pending(id)
    }

    private func unexpired(_ record: PendingLoginRecord) -> Result<PendingLoginRecord, LoginFailure> {
        record.expiresAt > now() ? .success(record) : .failure(.expired)
    }

    /// Records the card decision; on success the login waits for consent. The login is read, checked and updated in one
    /// write (the card step is the busiest step of a login, and a separate read before it was a second round trip).
    public func recordCard(_ id: String, decision: CardDecision) async throws -> Result<PendingLoginRecord, LoginFailure> {
        try await recordCard(id, decision: decision) { updater in try await storage.updatePendingLogin(id: id, updater) }
    }

    /// ``recordCard(_:decision:)`` for a login the caller has just read (`login`): while it is still stored as read,
    /// the update does not read it again.
    public func recordCard(_ login: PendingLoginRecord, decision: CardDecision) async throws -> Result<PendingLoginRecord, LoginFailure> {
        try await recordCard(login.id, decision: decision) { updater in try await storage.updatePendingLogin(from: login, updater) }
    }

    private func recordCard(_ id: String, decision: CardDecision,
                            update: (@escaping @Sendable (PendingLoginRecord) throws -> PendingLoginRecord) async throws -> PendingLoginRecord)
        async throws -> Result<PendingLoginRecord, LoginFailure> {
        let card = CardOutcomeRecord(decision)
        let at = now()
        let updated: PendingLoginRecord
        do {
            updated = try await update { current in
                guard current.expiresAt > at else { throw LoginFailure.expired }
                // The card step again with the card already recorded (a reload, or the language switch on the consent
                // page): it is decided anew and the consent page shown again. Another card, or a login past consent, is
                // refused.
                let reload = current.state == .awaitingConsent && current.card?.certificateFingerprint == decision.certificateFingerprint
                guard current.state == .awaitingCard || reload else { throw LoginFailure.wrongState(current.state) }
                var next = current
                next.card = card
                next.state = Self.refusal(of: decision, for: current) == nil ? .awaitingConsent : .failed
                if next.state == .awaitingConsent, next.consentToken == nil { next.consentToken = LoginBinding.newSecret() }
                return next
            }
        } catch let failure as LoginFailure {
            return .failure(failure)
        } catch let error as StorageError where error.code == .notFound {
            return .failure(.unknownLogin)
        } catch let error as StorageError where error.code == .conflict {
            // Another instance moved the login on between this one's read and write.
            return .failure(.wrongState(try await storage.pendingLogin(id: id)?.state ?? .failed))
        }
        if let failure = Self.refusal(of: decision, for: updated) { return .failure(failure) }
        return .success(updated)
    }

    /// Why `decision` cannot continue `login`: the card was refused, reached a level below the one requested, or (failing
    /// closed) names no citizen or level; nil when it can.
    static func refusal(of decision: CardDecision, for login: PendingLoginRecord) -> LoginFailure? {
        let (requested, comparison) = login.requested
        if let refusal = decision.refusal { return .certificateRefused(refusal) }
        if let reached = decision.level, !LevelPolicy.satisfies(requested: requested, comparison: comparison, reached: reached) {
            return .levelTooLow(reached: reached, requested: requested, comparison: comparison)
        }
        if decision.level == nil || decision.citizen == nil { return .certificateRefused("no_identity") }   // fail closed
        return nil
    }

    /// The citizen's answer on the consent page, over a connection presenting the card that was checked, with the
    /// form's anti-forgery token.
    public func consent(_ id: String, approve: Bool, certificateFingerprint: String, token: String) async throws -> Result<PendingLoginRecord, LoginFailure> {
        let current: PendingLoginRecord
        switch try await pending(id) {
        case .failure(let f): return .failure(f)
        case .success(let r): current = r
        }
        guard current.state == .awaitingConsent else { return .failure(.wrongState(current.state)) }
        guard let expected = current.consentToken, LoginBinding.equal(expected, token) else { return .failure(.forgedConsent) }
        guard current.card?.certificateFingerprint == certificateFingerprint else { return .failure(.differentCard) }
        do {
            let updated = try await storage.updatePendingLogin(id: id) { r in
                guard r.state == .awaitingConsent else { throw LoginFailure.wrongState(r.state) }
                var next = r
                next.state = approve ? .completed : .failed
                return next
            }
            return approve ? .success(updated) : .failure(.denied)
        } catch let failure as LoginFailure {
            return .failure(failure)
        } catch let error as StorageError where error.code == .conflict {
            return .failure(.wrongState(.completed))   // a concurrent consent won
        }
    }

    /// A new continuation secret for a login that ended (completed or failed), stored hashed: the card listener puts it
    /// in the one redirect (or link) that takes the consenting browser back to the front end. Issued once: nil when
    /// the login has not ended or a secret was already issued.
    public func issueContinuation(_ id: String) async throws -> String? {
        let secret = LoginBinding.newSecret()
        do {
            _ = try await storage.updatePendingLogin(id: id) { r in
                guard r.state == .completed || r.state == .failed, r.continuationHash == nil else { throw LoginFailure.wrongState(r.state) }
                var next = r
                next.continuationHash = LoginBinding.digest(secret)
                return next
            }
            return secret
        } catch is LoginFailure {
            return nil
        } catch let error as StorageError where error.code == .conflict || error.code == .notFound {
            return nil
        }
    }

    /// Whether the front end may finish `record` for this request: the browser presents the binding cookie the login
    /// started with and, once the card step has ended, the continuation secret of the consenting browser's redirect.
    /// The login ID alone never suffices. A login that expired before its card step finished may still be ended, by its
    /// own browser, while it is kept (``PendingLoginRecord/keptAfterExpiry``): its service is told it timed out.
    public static func mayContinue(_ record: PendingLoginRecord, bindingCookie: String?, continuation: String?, now: Date) -> Bool {
        guard now < record.keptUntil, let binding = record.browserBinding, let bindingCookie,
              LoginBinding.equal(binding, LoginBinding.digest(bindingCookie)) else { return false }
        switch record.state {
        case .awaitingCard, .awaitingConsent:
            return true   // the citizen came back before finishing: the login ends as abandoned, or as timed out once expired
        case .completed, .failed:
            guard record.expiresAt > now, let hash = record.continuationHash, let continuation else { return false }
            return LoginBinding.equal(hash, LoginBinding.digest(continuation))
        }
    }

    /// How an unfinished login ended at `now` (nil for a completed one): one left before its card step finished was
    /// abandoned, or timed out once past its expiry.
    public static func ending(of record: PendingLoginRecord, now: Date) -> LoginEnding? {
        guard record.state != .completed else { return nil }
        guard record.state == .failed, let decision = decision(of: record) else { return record.expiresAt <= now ? .timedOut : .abandoned }
        if let refusal = decision.refusal { return refusal == "revoked" ? .revoked : .refused(refusal) }
        let (requested, comparison) = record.requested
        if let reached = decision.level, !LevelPolicy.satisfies(requested: requested, comparison: comparison, reached: reached) { return .levelTooLow }
        return .denied
    }

    /// How a login ended, as the front ends answer it: the authenticated citizen (with the session the login opened or
    /// continued, while it lasts) or why not.
    public func result(of record: PendingLoginRecord) async throws -> LoginResult {
        guard record.state == .completed, let decision = Self.decision(of: record), decision.accepted, let citizen = decision.citizen,
              let level = decision.level else {
            return .ended(Self.ending(of: record, now: now()) ?? .abandoned)
        }
        var sessionExpiresAt: Date?
        if let sessionID = decision.sessionID { sessionExpiresAt = try await storage.session(id: sessionID)?.expiresAt }
        return .authenticated(AuthenticatedLogin(citizen: citizen, level: level, authenticatedAt: decision.decidedAt, sessionID: decision.sessionID,
                                                 sessionExpiresAt: sessionExpiresAt))
    }

    /// The card decision stored with a login.
    public static func decision(of record: PendingLoginRecord) -> CardDecision? { record.card.map(CardDecision.init) }
}

extension PendingLoginRecord {
    /// The level the requester asked for and how it compares, read once; an unreadable stored value asks for the most
    /// (SpidL3, exact): fail closed.
    public var requested: (level: SpidLevel, comparison: LevelComparison) {
        (SpidLevel(rawValue: requestedLevel) ?? .spidL3, LevelComparison(rawValue: comparison) ?? .exact)
    }
}
