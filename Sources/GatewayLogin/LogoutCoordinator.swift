import Foundation
import GatewayStorage

/// The participants of a session that have a back channel (OIDC clients), as the logout coordinator tells them.
public protocol BackChannelLogout: Sendable {
    /// Tells the back-channel participants among `participants` (except `initiator`) that `sessionID` ended. Returns
    /// which participants have a back channel at all and which confirmed.
    func notify(sessionID: String, codiceFiscale: String, participants: [String], except initiator: String?, now: Date) async -> (clients: Set<String>, told: [String])
}

/// Ends single-sign-on sessions for either front end: the session record goes, the OIDC participants are told over
/// their back channel, and the caller learns which participants it must tell itself (SAML services, over the front
/// channel). The SAML and OIDC engines reach it through their own seams; neither builds the other's parts.
public struct LogoutCoordinator: Sendable {
    public let storage: any GatewayStorage
    public let backChannel: any BackChannelLogout

    public init(storage: any GatewayStorage, backChannel: any BackChannelLogout) {
        self.storage = storage
        self.backChannel = backChannel
    }

    /// What ending a session did.
    public struct Ending: Sendable, Hashable {
        public let participants: [String]
        /// Participants with a back channel (told, or tried).
        public let backChannelParticipants: Set<String>
        public let told: [String]
        /// Participants without a back channel, other than the initiator: the front channel's to tell.
        public var frontChannel: [String] { participants.filter { !backChannelParticipants.contains($0) && $0 != initiator } }
        /// Whether every back-channel participant other than the initiator confirmed.
        public var backChannelComplete: Bool { backChannelParticipants.subtracting([initiator].compactMap { $0 }).isSubset(of: Set(told)) }
        let initiator: String?
    }

    /// Ends `sessionID` (an unknown session is nil). With `requester`, only a session it took part in is ended.
    public func end(sessionID: String, initiator: String?, requireParticipant requester: String? = nil, now: Date) async throws -> Ending? {
        guard let session = try await storage.session(id: sessionID) else { return nil }
        if let requester, !session.participants.contains(requester) { return nil }
        do { try await storage.deleteSession(id: sessionID) } catch let error as StorageError where error.code == .notFound {
            return nil   // another logout ended it first
        }
        let (clients, told) = await backChannel.notify(sessionID: session.id, codiceFiscale: session.citizen.codiceFiscale, participants: session.participants,
                                                      except: initiator, now: now)
        return Ending(participants: session.participants, backChannelParticipants: clients, told: told, initiator: initiator)
    }
}
