/// Why a login that did not complete ended: what the protocol front ends turn into their errors (SAML `nrNN`, OIDC
/// `access_denied`).
public enum LoginEnding: Sendable, Hashable {
    /// The browser came back before the card step finished.
    case abandoned
    /// The login's time ran out before the card step finished (the browser came back after it expired).
    case timedOut
    case revoked
    /// The certificate was refused for another reason (its `FailureReason` raw value).
    case refused(String)
    case levelTooLow
    case denied

    /// A short stable word for audit records and protocol errors.
    public var reason: String {
        switch self {
        case .abandoned: "cancelled"
        case .timedOut: "timeout"
        case .revoked: "revoked"
        case .refused(let why): why
        case .levelTooLow: "level_too_low"
        case .denied: "denied"
        }
    }
}
