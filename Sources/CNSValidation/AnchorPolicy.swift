import LoginOutcome
/// What an admin decided about one trusted CA.
public struct AnchorPolicy: Sendable, Hashable, Codable {
    /// Policy OIDs a leaf must assert (any one of them). Empty: any policy, or none, is accepted.
    public var acceptedPolicies: Set<String>
    public var level: SpidLevel
    public var revocation: RevocationPolicy
    /// Refuse leaves with RSA keys under 2048 bits (CNS v1.0 cards have RSA-1024: accepted by default).
    public var refuseWeakKeys: Bool
    /// Refuse SHA-1 signatures on certificates below the anchor (legacy CAs: accepted by default).
    public var refuseSHA1: Bool
    /// OpenSSL's X.509 strict mode on the path (RFC 5280 encoding rules: key identifiers, CA key usage, critical
    /// basic constraints, ...). On by default; an admin may relax it for a legacy CA whose certificates break it.
    public var strictRFC5280: Bool

    /// CNS authentication policy `1.3.76.16.2.1` (DOMAIN.md §1.2).
    public static let cnsPolicy = "1.3.76.16.2.1"
    /// CIE authentication policy `1.3.76.47.4`.
    public static let ciePolicy = "1.3.76.47.4"
    /// Lombardy CRS/SISS legacy policies declared equivalent to CNS.
    public static let lombardyLegacyPolicies: Set<String> = ["1.3.159.6.1.3.2.10", "1.3.76.12.1.1.10.2.2.10"]

    public init(acceptedPolicies: Set<String> = [AnchorPolicy.cnsPolicy], level: SpidLevel = .spidL2,
                revocation: RevocationPolicy = RevocationPolicy(), refuseWeakKeys: Bool = false, refuseSHA1: Bool = false,
                strictRFC5280: Bool = true) {
        self.acceptedPolicies = acceptedPolicies
        self.level = level
        self.revocation = revocation
        self.refuseWeakKeys = refuseWeakKeys
        self.refuseSHA1 = refuseSHA1
        self.strictRFC5280 = strictRFC5280
    }
}
