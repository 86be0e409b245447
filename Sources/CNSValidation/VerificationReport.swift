import Foundation
import ItalianIdentity
import LoginOutcome

/// The certificate decision: what `cnsgw verify --json` prints and what the gateway logs and audits.
public struct VerificationReport: Sendable, Codable {
    public let valid: Bool
    public let reason: FailureReason?
    /// A sentence for a person.
    public let detail: String
    /// Subjects, leaf first (as far as the path was built).
    public let chain: [String]
    /// The deciding revocation result (the first non-good one along the path, else the leaf's).
    public let revocation: RevocationResult?
    /// The level the anchor yields; only on a valid decision.
    public let level: SpidLevel?
    public let identity: Identity?
    /// Legacy cryptography seen on the path (`rsa1024`, `sha1`), counted in metrics.
    public let legacyCrypto: [String]
    /// The anchor that vouched, by name.
    public let anchor: String?
    public let validationTime: Date

    /// The identity block of the JSON contract: the authenticated citizen.
    public typealias Identity = AuthenticatedCitizen

    public init(valid: Bool, reason: FailureReason?, detail: String, chain: [String], revocation: RevocationResult?, level: SpidLevel?,
                identity: Identity?, legacyCrypto: [String], anchor: String?, validationTime: Date) {
        self.valid = valid
        self.reason = reason
        self.detail = detail
        self.chain = chain
        self.revocation = revocation
        self.level = level
        self.identity = identity
        self.legacyCrypto = legacyCrypto
        self.anchor = anchor
        self.validationTime = validationTime
    }

    /// A refusal before any path was built.
    public static func refused(_ reason: FailureReason, _ detail: String, chain: [String] = [], at time: Date) -> VerificationReport {
        VerificationReport(valid: false, reason: reason, detail: detail, chain: chain, revocation: nil, level: nil, identity: nil,
                           legacyCrypto: [], anchor: nil, validationTime: time)
    }

    enum CodingKeys: String, CodingKey {
        case valid, reason, detail, chain, revocation, level, identity, legacyCrypto, anchor, validationTime
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(valid, forKey: .valid)
        try c.encode(reason, forKey: .reason)   // explicit null when valid
        try c.encode(detail, forKey: .detail)
        try c.encode(chain, forKey: .chain)
        try c.encode(revocation, forKey: .revocation)
        try c.encode(level, forKey: .level)
        try c.encode(identity, forKey: .identity)
        try c.encode(legacyCrypto, forKey: .legacyCrypto)
        try c.encode(anchor, forKey: .anchor)
        try c.encode(validationTime, forKey: .validationTime)
    }
}

// The level type lives with the login's outcome (LoginOutcome); validation decides it, so its name stays here too.
public typealias SpidLevel = LoginOutcome.SpidLevel
