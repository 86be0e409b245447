import Foundation
import GatewayLogin
import OIDC
import SAML

/// The logout coordinator behind the SAML and OIDC engines' session seams.
struct SessionEnding: SingleLogoutSessions, OIDCSessions {
    let coordinator: LogoutCoordinator

    func endSession(_ index: String, requester: String, now: Date) async throws -> EndedSession? {
        guard let ending = try await coordinator.end(sessionID: index, initiator: nil, requireParticipant: requester, now: now) else { return nil }
        return EndedSession(frontChannel: ending.frontChannel.filter { $0 != requester }, toldByBackChannel: ending.told,
                            backChannelComplete: ending.backChannelComplete)
    }

    func endSession(_ sessionID: String, initiator: String?, now: Date) async throws -> EndedOIDCSession? {
        guard let ending = try await coordinator.end(sessionID: sessionID, initiator: initiator, now: now) else { return nil }
        return EndedOIDCSession(told: ending.told, notTold: ending.participants.filter { !ending.told.contains($0) && $0 != initiator })
    }
}

extension BackChannelLogoutSender: BackChannelLogout {}
