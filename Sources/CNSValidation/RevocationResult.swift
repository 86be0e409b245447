import Foundation

/// The revocation status of one certificate and which source decided it.
public struct RevocationResult: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Hashable, Codable {
        case ocsp, crl, none
    }

    public enum Status: String, Sendable, Hashable, Codable {
        case good, revoked, unknown
        /// The anchor's policy is `none`, or the caller asked for no check.
        case notChecked = "not_checked"
    }

    public let method: Method
    public let status: Status
    /// The responder URL, CRL URL or CRL file that decided; `nil` when nothing did.
    public let source: String?
    /// A sentence for a person: what was asked and what answered.
    public let detail: String
    /// The CRL reason, when revoked (`certificateHold` is a suspension).
    public let reason: String?
    public let revokedAt: Date?
    /// True when a soft-fail policy accepted an answer past its `nextUpdate`.
    public let stale: Bool

    public init(method: Method, status: Status, source: String?, detail: String, reason: String? = nil,
                revokedAt: Date? = nil, stale: Bool = false) {
        self.method = method
        self.status = status
        self.source = source
        self.detail = detail
        self.reason = reason
        self.revokedAt = revokedAt
        self.stale = stale
    }
}
