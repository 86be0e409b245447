/// RFC 5280 §5.3.1 CRLReason.
public enum CRLReason: UInt8, Sendable, Hashable, Codable, CustomStringConvertible {
    case unspecified = 0
    case keyCompromise = 1
    case cACompromise = 2
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    /// A suspension: the card may come back (reported as revoked while it lasts).
    case certificateHold = 6
    /// Only in delta CRLs: the entry leaves the base CRL (a hold was lifted).
    case removeFromCRL = 8
    case privilegeWithdrawn = 9
    case aACompromise = 10

    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .cACompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aACompromise: "aACompromise"
        }
    }
}
