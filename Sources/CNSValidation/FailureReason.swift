/// Why a certificate is not valid: the stable `reason` of `cnsgw verify --json`.
public enum FailureReason: String, Sendable, Hashable, Codable, CaseIterable {
    case malformed
    case untrusted
    case signature
    case expired
    case notYetValid = "not_yet_valid"
    case basicConstraints = "basic_constraints"
    case pathLength = "path_length"
    case keyUsage = "key_usage"
    case extendedKeyUsage = "extended_key_usage"
    case policy
    case nameConstraints = "name_constraints"
    case criticalExtension = "critical_extension"
    case revoked
    case revocationUnknown = "revocation_unknown"
    case identity
}
