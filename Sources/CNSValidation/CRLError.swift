import CodedErrors

/// Why a CRL cannot be used. `code` is stable; `detail` says what was found.
public struct CRLError: CodedError {
    public enum Code: String, Sendable, Hashable {
        case malformed
        case tooLarge = "too_large"
        case issuerMismatch = "issuer_mismatch"
        case issuerCannotSignCRLs = "issuer_cannot_sign_crls"
        case unsupportedAlgorithm = "unsupported_algorithm"
        case badSignature = "bad_signature"
        case unhandledCriticalExtension = "unhandled_critical_extension"
        case unsupportedScope = "unsupported_scope"
        case unreadable
        case fetchFailed = "fetch_failed"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
