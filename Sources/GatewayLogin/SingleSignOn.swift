import Crypto
import CodedErrors
import Foundation
import GatewayStorage
import HexEncoding
import LoginOutcome

/// When a single-sign-on session is opened and reused. SPID allows an identity-provider session only for SpidL1
/// requests; L2/L3 requests neither create nor use one (DOMAIN.md §3.6), so the default is `[.spidL1]`; an empty
/// set turns SSO off.
public struct SessionPolicy: Sendable, Hashable {
    /// Requested levels for which a session is opened (after consent) and reused (before a card check).
    public var levels: Set<SpidLevel>
    /// How long a session lasts from the card login that opened it.
    public var lifetime: TimeInterval
    /// The cookie's name on the card listener's host.
    public var cookieName: String

    public init(levels: Set<SpidLevel> = [.spidL1], lifetime: TimeInterval = 1800, cookieName: String = "cnsgw_sso") {
        self.levels = levels
        self.lifetime = lifetime
        self.cookieName = cookieName
    }

    /// Whether a login asking for `level` may open or reuse a session.
    public func allows(_ level: SpidLevel) -> Bool { levels.contains(level) }
}

/// A session the card listener opened: the cookie value goes to the browser, the record (keyed by the value's
/// hash) to storage.
public struct OpenedSession: Sendable {
    public let cookieValue: String
    public let record: SessionRecord
}

extension LoginFlow {
    /// The storage key of a cookie value: storage never holds a cookie that works.
    public static func sessionID(cookieValue: String) -> String {
        Hex.encode(SHA256.hash(data: Data(cookieValue.utf8)))
    }

    /// Opens a session after a completed login, when the policy allows one for the level that login asked for.
    public func openSession(after login: PendingLoginRecord, policy: SessionPolicy) async throws -> OpenedSession? {
        guard login.state == .completed, policy.allows(login.requested.level), let card = login.card, card.refusal == nil,
              let level = card.level, let citizen = card.citizen else { return nil }
        let cookie = LoginBinding.newSecret()   // 256 random bits; only its SHA-256 is stored
        let record = SessionRecord(id: Self.sessionID(cookieValue: cookie), certificateFingerprint: card.certificateFingerprint, level: level,
                                   citizen: citizen, authenticatedAt: card.decidedAt, expiresAt: now() + policy.lifetime, participants: [login.requester])
        try await storage.createSession(record)
        // The login's decision names its session, so the front end can give it as the SAML SessionIndex.
        let sessionID = record.id
        _ = try await storage.updatePendingLogin(id: login.id) { r in
            var next = r
            next.card?.sessionID = sessionID
            return next
        }
        return OpenedSession(cookieValue: cookie, record: record)
    }

    /// Continues a pending login from a session instead of a new card check, when everything allows it: the login
    /// does not force a fresh authentication, the policy allows a session for its level, the session is alive, was
    /// opened with the card this connection presents, and its level satisfies the request. Otherwise nil, and the
    /// card is checked as usual.
    public func resumeFromSession(_ id: String, cookieValue: String?, presentedFingerprint: String?, policy: SessionPolicy) async throws -> PendingLoginRecord? {
        guard let cookieValue, let presentedFingerprint, case .success(let login) = try await pending(id), login.state == .awaitingCard,
              !login.forceFresh, policy.allows(login.requested.level),
              let session = try await storage.session(id: Self.sessionID(cookieValue: cookieValue)), session.expiresAt > now(),
              session.certificateFingerprint == presentedFingerprint, let reached = SpidLevel(rawValue: session.level),
              LevelPolicy.satisfies(requested: login.requested.level, comparison: login.requested.comparison, reached: reached) else { return nil }
        // The decision of the card check that opened the session.
        let card = CardOutcomeRecord(certificateFingerprint: session.certificateFingerprint, decidedAt: session.authenticatedAt, refusal: nil,
                                     level: session.level, citizen: session.citizen, sessionID: session.id)
        let updated = try await storage.updatePendingLogin(id: id) { r in
            guard r.state == .awaitingCard else { throw LoginFailure.wrongState(r.state) }
            var next = r
            next.card = card
            next.state = .awaitingConsent
            if next.consentToken == nil { next.consentToken = LoginBinding.newSecret() }
            return next
        }
        let requester = login.requester
        _ = try await storage.updateSession(id: session.id) { s in
            var next = s
            if !next.participants.contains(requester) { next.participants.append(requester) }
            return next
        }
        return updated
    }

    /// Ends a session (logout, or a different card presented with its cookie). Unknown sessions are ignored.
    public func endSession(cookieValue: String) async throws {
        do { try await storage.deleteSession(id: Self.sessionID(cookieValue: cookieValue)) } catch let error as StorageError where error.code == .notFound {}
    }
}
