import CodedErrors

/// Why a federation entity could not be trusted: a stable `code` for the audit log and metrics, and a sentence that
/// names the statement and the rule, for the admin who reads the log.
public struct FederationError: CodedError {
    public enum Code: String, Sendable, Hashable {
        /// A statement could not be fetched (network, status, size, redirect, timeout).
        case fetchFailed = "fetch_failed"
        /// A statement is not a well-formed entity statement (JWS, `typ`, required claims).
        case malformedStatement = "malformed_statement"
        /// A signature does not verify with the keys that should have made it.
        case badSignature = "bad_signature"
        /// `iss`/`sub` are not the entities they should be.
        case wrongSubject = "wrong_subject"
        /// A statement's `iat` is in the future or its `exp` has passed.
        case expired = "expired"
        /// No path of `authority_hints` reaches a trust anchor the admin pinned.
        case noTrustAnchor = "no_trust_anchor"
        /// The chain is longer than allowed, or resolution needed more fetches than allowed.
        case chainTooLong = "chain_too_long"
        /// Metadata policies of the chain cannot be combined, or the metadata breaks them.
        case policyViolation = "policy_violation"
        /// The entity has no metadata of the type asked for.
        case noMetadata = "no_metadata"
        /// A required trust mark is missing, expired, from an issuer the anchor does not list, or badly signed.
        case trustMark = "trust_mark"
        /// The resolved metadata cannot make a usable client (no redirect URIs, no keys, …).
        case unusableMetadata = "unusable_metadata"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
