import CodedErrors

/// Why an XML document or its signature was refused.
public struct XMLSecurityError: CodedError {
    public enum Code: String, Sendable, Hashable {
        /// Larger than the caller's limit.
        case tooLarge = "too_large"
        /// Not well-formed XML.
        case malformed
        /// A DOCTYPE (DTD, entity declarations): never accepted.
        case dtdForbidden = "dtd_forbidden"
        /// Two elements with the same ID: a signature-wrapping attempt or a broken document.
        case duplicateID = "duplicate_id"
        /// No signature where one is required, or more than one.
        case signatureMissing = "signature_missing"
        /// The signature does not verify with the configured key, uses a refused algorithm or transform, or does
        /// not cover the element it must cover.
        case signatureInvalid = "signature_invalid"
        /// The configured key or certificate cannot be used.
        case badKey = "bad_key"
        /// libxmlsec1 could not be initialised.
        case library
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
