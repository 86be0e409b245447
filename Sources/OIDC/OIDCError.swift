import CodedErrors

/// An OAuth 2.0 / OpenID Connect error: the protocol's `error` code, a description for the client's developer, and
/// how it is delivered. Authorization errors go back to the client's redirect URI only once the client and the
/// redirect URI are known to be genuine; before that they are shown on a page (never an open redirect).
public struct OIDCError: CodedError {
    public enum Code: String, Sendable, Hashable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case unsupportedResponseType = "unsupported_response_type"
        case invalidScope = "invalid_scope"
        case accessDenied = "access_denied"
        case loginRequired = "login_required"
        case consentRequired = "consent_required"
        case invalidRequestObject = "invalid_request_object"
        case requestURINotSupported = "request_uri_not_supported"
        case registrationNotSupported = "registration_not_supported"
        case invalidToken = "invalid_token"
        case unsupportedTokenType = "unsupported_token_type"
        case serverError = "server_error"
    }

    /// Where the error goes.
    public enum Delivery: Sendable, Hashable {
        /// A page for the citizen: the client or its redirect URI could not be trusted.
        case page
        /// To the client's registered redirect URI, with its `state`.
        case redirect(uri: String, state: String?)
        /// In the JSON body of a back-channel answer (token, userinfo, introspection, revocation).
        case json
    }

    public let code: Code
    public let detail: String
    public var delivery: Delivery
    /// A short stable word for the audit log and metrics (`pkce_mismatch`, `code_replayed`, …).
    public let reason: String
    /// The client the refused request authenticated as, for the audit log (nil when it did not get that far).
    public var clientID: String?

    public init(_ code: Code, reason: String, _ detail: String, delivery: Delivery = .json) {
        self.code = code
        self.detail = detail
        self.delivery = delivery
        self.reason = reason
    }

    /// The HTTP status of a back-channel answer (RFC 6749 §5.2, RFC 6750 §3.1).
    public var httpStatus: Int {
        switch code {
        case .invalidClient, .invalidToken: return 401
        case .serverError: return 500
        default: return 400
        }
    }

    func delivered(_ delivery: Delivery) -> OIDCError {
        var e = self
        e.delivery = delivery
        return e
    }
}
