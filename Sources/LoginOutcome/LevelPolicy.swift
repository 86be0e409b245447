/// How a requester compares the level it asks for with the level reached (SAML `RequestedAuthnContext`
/// `Comparison`; OIDC `acr_values` map to `minimum`).
public enum LevelComparison: String, Sendable, Hashable, Codable, CaseIterable {
    case exact, minimum, better, maximum
}

/// Whether the level a card's anchor yields satisfies a request (DOMAIN.md §3.1: an IdP may authenticate at a
/// higher level than requested, and that must not make the request fail).
public enum LevelPolicy {
    public static func satisfies(requested: SpidLevel, comparison: LevelComparison, reached: SpidLevel) -> Bool {
        switch comparison {
        case .exact, .minimum: reached >= requested
        case .better: reached > requested
        case .maximum: true   // a lower level is within the maximum; a higher one is allowed by the SPID rule above
        }
    }
}
