import Foundation

/// How an anchor's certificates are checked for revocation.
public struct RevocationPolicy: Sendable, Hashable, Codable {
    /// Which sources are asked, in order.
    public enum Order: String, Sendable, Hashable, Codable, CaseIterable {
        /// OCSP first; when it cannot answer, the CRL.
        case ocspThenCRL = "ocsp-then-crl"
        case crlOnly = "crl-only"
        case ocspOnly = "ocsp-only"
        /// No revocation check (the decision records that none was made).
        case none
    }

    public var order: Order
    /// `nil`: fail closed — a certificate whose status cannot be established is not valid.
    /// A value: soft-fail — a CRL or OCSP answer past its `nextUpdate` by at most this many seconds is still used
    /// when no fresh one can be had. Status is never assumed without any answer.
    public var softFailMaxStaleness: TimeInterval?
    /// Send an OCSP nonce and require it back (some responders ignore nonces: switch off for them).
    public var ocspNonce: Bool
    /// Replaces the responder named in certificates' AIA.
    public var ocspResponder: String?
    /// CRL URLs or file paths the admin gave; used before the certificates' distribution points.
    public var crlSources: [String]
    /// Seconds to wait for an OCSP responder or CRL server.
    public var networkTimeout: TimeInterval

    public init(order: Order = .ocspThenCRL, softFailMaxStaleness: TimeInterval? = nil, ocspNonce: Bool = true,
                ocspResponder: String? = nil, crlSources: [String] = [], networkTimeout: TimeInterval = 5) {
        self.order = order
        self.softFailMaxStaleness = softFailMaxStaleness
        self.ocspNonce = ocspNonce
        self.ocspResponder = ocspResponder
        self.crlSources = crlSources
        self.networkTimeout = networkTimeout
    }
}
