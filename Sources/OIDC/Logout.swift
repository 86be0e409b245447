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

/// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): a signed logout token to each client of an ended
/// session that registered a back-channel URI, concurrently, each with a 5 s limit.
public struct BackChannelLogoutSender: Sendable {
    public let provider: ProviderConfiguration
    public let clients: @Sendable () async throws -> [String: ClientRegistration]
    public let keys: @Sendable () async throws -> ProviderKeys
    public let subjects: @Sendable () async throws -> SubjectIdentifiers
    public let store: any OIDCStore
    /// POSTs a form to a client's back-channel URI (no redirects, a size limit, the timeout); throws unless it answers 200.
    public let post: @Sendable (_ url: String, _ form: String, _ timeout: TimeInterval) async throws -> Void

    public init(provider: ProviderConfiguration, clients: @escaping @Sendable () async throws -> [String: ClientRegistration],
                keys: @escaping @Sendable () async throws -> ProviderKeys, subjects: @escaping @Sendable () async throws -> SubjectIdentifiers,
                store: any OIDCStore, post: @escaping @Sendable (String, String, TimeInterval) async throws -> Void) {
        self.provider = provider
        self.clients = clients
        self.keys = keys
        self.subjects = subjects
        self.store = store
        self.post = post
    }

    /// Tells the OIDC clients among `participants` (except `initiator`) that `sessionID` ended. Returns the OIDC clients
    /// among the participants and those that confirmed; failures are audited (the session is over either way).
    public func notify(sessionID: String, codiceFiscale: String, participants: [String], except initiator: String?, now: Date) async -> (clients: Set<String>, told: [String]) {
        guard let clients = try? await clients(), let keys = try? await keys(), let subjects = try? await subjects() else { return ([], []) }
        let members = Set(participants.filter { clients[$0] != nil })
        let targets = members.compactMap { clients[$0] }.filter { $0.clientID != initiator && $0.backchannelLogoutURI != nil }
        let issuer = TokenIssuer(provider: provider)
        let post = self.post
        let told = await withTaskGroup(of: (String, String?).self) { group in
            for client in targets {
                guard let uri = client.backchannelLogoutURI,
                      let token = try? issuer.logoutToken(clientID: client.clientID, subject: subjects.subject(codiceFiscale: codiceFiscale, for: client),
                                                          sessionID: sessionID, key: keys.signingKey(client.idTokenSigningAlgorithm), now: now) else { continue }
                group.addTask {
                    do {
                        try await post(uri, "logout_token=" + URLForm.encode(token), 5)
                        return (client.clientID, nil)
                    } catch {
                        return (client.clientID, "\(error)")
                    }
                }
            }
            var told: [String] = []
            for await (clientID, failure) in group {
                if let failure {
                    try? await store.audit(["result": "backchannel_logout_failed", "client": clientID, "detail": failure])
                } else {
                    told.append(clientID)
                }
            }
            return told.sorted()
        }
        return (members, told)
    }
}

/// `application/x-www-form-urlencoded` values.
public enum URLForm {
    static let unreserved: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()

    public static func encode(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
}
