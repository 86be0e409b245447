import Foundation

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
