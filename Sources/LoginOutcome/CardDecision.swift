import Foundation

/// What the card step decided, as a login keeps it until its front end answers: the card it was, when, and either the
/// citizen with the level the card's anchor yields or why the card was refused.
public struct CardDecision: Sendable, Hashable {
    /// Lowercase hex SHA-256 of the card certificate: consent must come over a connection presenting the same card.
    public var certificateFingerprint: String
    /// When the citizen authenticated with the card (SAML `AuthnInstant`, OIDC `auth_time`): the card check, which for
    /// a login continued from a session is the one that opened it.
    public var decidedAt: Date
    /// Why the card was refused (the validation's reason, e.g. `revoked`); nil when it was accepted.
    public var refusal: String?
    public var level: SpidLevel?
    public var citizen: AuthenticatedCitizen?
    /// The single-sign-on session this login opened or was continued from (its id, the cookie's hash).
    public var sessionID: String?

    public init(certificateFingerprint: String, decidedAt: Date, refusal: String?, level: SpidLevel?, citizen: AuthenticatedCitizen?, sessionID: String? = nil) {
        self.certificateFingerprint = certificateFingerprint
        self.decidedAt = decidedAt
        self.refusal = refusal
        self.level = level
        self.citizen = citizen
        self.sessionID = sessionID
    }

    public var accepted: Bool { refusal == nil }
}
