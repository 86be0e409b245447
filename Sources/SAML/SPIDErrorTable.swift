import LoginOutcome

/// The SPID error table's user-side rows (`messaggi-errore`, DOMAIN.md §3.4): how a login ended, as `ErrorCode nrNN`
/// with its sub-status, in a Response with top-level status Responder.
public enum SPIDErrorTable {
    public struct Row: Sendable, Hashable {
        public let code: Int
        public let subStatus: String?
        public var statusMessage: String { SAMLRequestError.statusMessage(code) }
    }

    public static func userError(_ ending: LoginEnding) -> Row {
        switch ending {
        case .abandoned: Row(code: 25, subStatus: SAMLNames.Status.authnFailed)
        case .revoked: Row(code: 23, subStatus: SAMLNames.Status.authnFailed)
        case .refused: Row(code: 19, subStatus: SAMLNames.Status.authnFailed)
        case .levelTooLow: Row(code: 20, subStatus: SAMLNames.Status.noAuthnContext)
        case .denied: Row(code: 22, subStatus: SAMLNames.Status.authnFailed)
        }
    }
}
