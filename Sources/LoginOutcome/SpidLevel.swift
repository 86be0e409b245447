/// The SPID level of assurance an anchor's certificates yield (DOMAIN.md §5: a per-anchor policy, never L3 by default).
public enum SpidLevel: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case spidL1 = "SpidL1"
    case spidL2 = "SpidL2"
    case spidL3 = "SpidL3"

    /// The `AuthnContextClassRef` / `acr` URI.
    public var uri: String { "https://www.spid.gov.it/\(rawValue)" }

    public static func < (a: SpidLevel, b: SpidLevel) -> Bool { a.rawValue < b.rawValue }
}
