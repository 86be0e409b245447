import Foundation

/// A single logout in progress: who asked, who is still to be told, whether any step failed.
public struct LogoutPropagation: Sendable, Hashable {
    public struct Participant: Sendable, Hashable {
        public let session: String
        public let serviceProvider: String
        public init(session: String, serviceProvider: String) {
            self.session = session
            self.serviceProvider = serviceProvider
        }
    }

    /// Where the final LogoutResponse goes.
    public let original: ResponseDestination
    public var remaining: [Participant]
    public var failed: Bool
    /// The LogoutRequest sent last, and to whom: its LogoutResponse must answer it.
    public var pendingRequestID: String?
    public var pendingServiceProvider: String?

    public init(original: ResponseDestination, remaining: [Participant], failed: Bool, pendingRequestID: String? = nil, pendingServiceProvider: String? = nil) {
        self.original = original
        self.remaining = remaining
        self.failed = failed
        self.pendingRequestID = pendingRequestID
        self.pendingServiceProvider = pendingServiceProvider
    }
}

/// The gateway's single-sign-on sessions, as single logout needs them: ending one tells its participants that have a
/// back channel (OIDC clients) and names the ones the SAML front channel must tell.
public protocol SingleLogoutSessions: Sendable {
    /// Ends the session `index` when `requester` took part in it; nil when it is unknown, expired or not theirs.
    func endSession(_ index: String, requester: String, now: Date) async throws -> EndedSession?
}

/// What ending a session did.
public struct EndedSession: Sendable, Hashable {
    /// Participants without a back channel (SAML services), other than the requester: told in turn over the front channel.
    public var frontChannel: [String]
    /// Participants told over their back channel.
    public var toldByBackChannel: [String]
    /// Whether every back-channel participant confirmed.
    public var backChannelComplete: Bool

    public init(frontChannel: [String], toldByBackChannel: [String], backChannelComplete: Bool) {
        self.frontChannel = frontChannel
        self.toldByBackChannel = toldByBackChannel
        self.backChannelComplete = backChannelComplete
    }
}
