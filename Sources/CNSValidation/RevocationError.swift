import CodedErrors

/// Why a revocation source could not answer.
public struct RevocationError: CodedError {
    public enum Code: String, Sendable, Hashable {
        case unreachable
        case responderError = "responder_error"
        case invalidResponse = "invalid_response"
        case stale
        case noSource = "no_source"
        case offline
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
