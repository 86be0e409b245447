import LoginOutcome

/// The SPID error table's user-side rows (`messaggi-errore`, DOMAIN.md §3.4): how a login ended, as `ErrorCode nrNN`
/// with its sub-status, in a Response with top-level status Responder.
public enum SPIDErrorTable {
    public struct Row: Sendable, Hashable {
        public let code: Int
        public let subStatus: String?
        public var statusMessage: String { SAMLRequestError.statusMessage(code) }
    }

    /// Every user-side row has sub-status AuthnFailed. nr19 (repeated wrong credentials) never comes from the gateway:
    /// the card counts PIN attempts itself and the gateway never sees a wrong one. A card the gateway refuses for any
    /// reason but revocation (an issuer not trusted here, expired, not a CNS certificate) leaves the citizen without a
    /// credential this service accepts: nr20, as for a level below the one asked. See docs/spid-errors.md.
    public static func userError(_ ending: LoginEnding) -> Row {
        switch ending {
        case .abandoned: Row(code: 25, subStatus: SAMLNames.Status.authnFailed)
        case .timedOut: Row(code: 21, subStatus: SAMLNames.Status.authnFailed)
        case .revoked: Row(code: 23, subStatus: SAMLNames.Status.authnFailed)
        case .refused, .levelTooLow: Row(code: 20, subStatus: SAMLNames.Status.authnFailed)
        case .denied: Row(code: 22, subStatus: SAMLNames.Status.authnFailed)
        }
    }
}
