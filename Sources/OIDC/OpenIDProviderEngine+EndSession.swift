import Foundation

/// The gateway's single-sign-on sessions as RP-initiated logout needs them (the gateway's logout coordinator).
public protocol OIDCSessions: Sendable {
    /// Ends the session, telling its back-channel participants other than `initiator`; nil when there is no such session.
    func endSession(_ sessionID: String, initiator: String?, now: Date) async throws -> EndedOIDCSession?
}

/// Who learnt of a logout.
public struct EndedOIDCSession: Sendable, Hashable {
    /// Clients told over their back channel.
    public var told: [String]
    /// Participants not told (SAML services, which SPID tells over the front channel only; clients without a back channel).
    public var notTold: [String]
    public init(told: [String], notTold: [String]) {
        self.told = told
        self.notTold = notTold
    }
}

/// What RP-initiated logout answers.
public enum EndSessionAnswer: Sendable {
    /// To the client's registered `post_logout_redirect_uri`, with its `state`.
    case redirect(uri: String, state: String?)
    /// The gateway's own "you are logged out" page.
    case loggedOut
    /// A page saying why not (audited).
    case refused(OIDCError)
}

extension OpenIDProviderEngine {
    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the session named by the ID token's `sid` ends
    /// through `sessions`, which tells the other clients over their back channel.
    public func endSession(_ parameters: [String: String], sessions: any OIDCSessions, auditFields: [String: String], now: Date) async throws -> EndSessionAnswer {
        let clients = try await clients()
        func refuse(_ reason: String, _ detail: String) async throws -> EndSessionAnswer {
            try await store.audit(auditFields.merging(["result": "logout_refused", "reason": reason, "detail": detail]) { _, own in own })
            return .refused(OIDCError(.invalidRequest, reason: reason, detail, delivery: .page))
        }
        var client: ClientRegistration?
        var sid: String?
        if let hint = parameters["id_token_hint"] {
            // An expired ID token still names who is logging out (RP-Initiated Logout §2); its signature must be ours.
            let keys = try await keys()
            guard let verified = try? JWS.verify(hint, keys: keys.verification, allowed: [.rs256, .es256], purpose: "id_token_hint"),
                  verified.claims["iss"]?.string == provider.issuer, let audience = verified.claims["aud"]?.strings?.first else {
                return try await refuse("bad_id_token_hint", "id_token_hint is not an ID token this provider issued")
            }
            client = clients[audience]
            sid = verified.claims["sid"]?.string
        }
        if let id = parameters["client_id"] {
            guard client == nil || client?.clientID == id else { return try await refuse("client_mismatch", "client_id differs from the ID token's audience") }
            client = clients[id]
        }
        if let uri = parameters["post_logout_redirect_uri"] {
            guard let client, client.postLogoutRedirectURIs.contains(uri) else {
                return try await refuse("post_logout_redirect_uri", "post_logout_redirect_uri '\(uri)' is not registered for the client")
            }
        }
        var ended: EndedOIDCSession?
        if let sid, let sessionID = try await store.sessionID(named: sid, now: now) {
            ended = try await sessions.endSession(sessionID, initiator: client?.clientID, now: now)
        }
        try await store.audit(auditFields.merging(["result": "logout", "client": client?.clientID ?? "", "session": sid ?? "",
                                                   "backchannel": ended?.told.joined(separator: ",") ?? "",
                                                   "notTold": ended?.notTold.joined(separator: ",") ?? ""]) { _, own in own })
        if let uri = parameters["post_logout_redirect_uri"] { return .redirect(uri: uri, state: parameters["state"]) }
        return .loggedOut
    }
}
