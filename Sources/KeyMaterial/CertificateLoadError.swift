import CodedErrors

/// Why certificate bytes or files could not be loaded. `code` is stable; `detail` says what to do.
public struct CertificateLoadError: CodedError {
    public enum Code: String, Sendable, Hashable {
        /// The bytes are not a certificate (truncated, garbage, wrong PEM type).
        case malformed
        /// The file or folder cannot be read.
        case unreadable
        /// The file is larger than the loader accepts.
        case tooLarge = "too_large"
        /// No certificate was found where one was expected.
        case empty
        /// A certificate given as a trust anchor cannot issue certificates.
        case notACertificateAuthority = "not_a_ca"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
