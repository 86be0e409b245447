import CNSValidation
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import Hummingbird
import OIDC

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout (Back-Channel Logout 1.0):
/// the single-sign-on session named by the ID token's `sid` ends, and every other client that took part in it and
/// registered a back-channel URI is sent a signed logout token.
struct OIDCLogoutController: Sendable {
    let application: GatewayApplication
    var provider: ProviderConfiguration { application.oidcProvider }

    func endSession(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let params = try await OIDCHTTP.parameters(request)
        let now = Date()
        let clients = try await application.oidcClients.snapshot()
        func refuse(_ reason: String, _ detail: String) async throws -> Response {
            let error = OIDCError(.invalidRequest, reason: reason, detail, delivery: .page)
            try await application.audit.append(kind: "oidc", fields: ["result": "logout_refused", "reason": reason, "detail": detail, "address": context.clientAddress])
            return application.html(pages.oidcRefused(error), status: .badRequest)
        }
        var client: ClientRegistration?
        var sid: String?
        if let hint = params["id_token_hint"] {
            // An expired ID token still names who is logging out (RP-Initiated Logout §2); its signature must be ours.
            let keys = try await application.oidcKeys.current()
            guard let verified = try? JWS.verify(hint, keys: keys.verification, allowed: [.rs256, .es256], purpose: "id_token_hint"),
                  verified.claims["iss"]?.string == provider.issuer, let audience = verified.claims["aud"]?.strings?.first else {
                return try await refuse("bad_id_token_hint", "id_token_hint is not an ID token this provider issued")
            }
            client = clients[audience]
            sid = verified.claims["sid"]?.string
        }
        if let id = params["client_id"] {
            guard client == nil || client?.clientID == id else { return try await refuse("client_mismatch", "client_id differs from the ID token's audience") }
            client = clients[id]
        }
        if let uri = params["post_logout_redirect_uri"] {
            guard let client, client.postLogoutRedirectURIs.contains(uri) else {
                return try await refuse("post_logout_redirect_uri", "post_logout_redirect_uri '\(uri)' is not registered for the client")
            }
        }
        var told: [String] = []
        var notTold: [String] = []
        if let sid, let sessionID = try await application.storage.sessionID(forSessionIdentifier: sid, now: now),
           let session = try await application.storage.session(id: sessionID) {
            try? await application.storage.deleteSession(id: session.id)
            told = await backchannelLogout(session: session, except: client?.clientID, clients: clients, now: now)
            // SAML services of the session have no back channel in SPID (front channel only): recorded, not told.
            notTold = session.participants.filter { clients[$0] == nil || (clients[$0]?.backchannelLogoutURI == nil && $0 != client?.clientID) }
        }
        try await application.audit.append(kind: "oidc", fields: ["result": "logout", "client": client?.clientID ?? "", "session": sid ?? "",
                                                                  "backchannel": told.joined(separator: ","), "notTold": notTold.joined(separator: ","),
                                                                  "address": context.clientAddress])
        if let uri = params["post_logout_redirect_uri"] { return OIDCHTTP.redirect(uri, ["state": params["state"]]) }
        return application.html(pages.loggedOut(), status: .ok)
    }

    /// Sends a logout token to each other participant of `session` with a back-channel URI, concurrently, each with
    /// a 5 s limit. Returns the clients that answered 200; failures are audited (the session is over either way).
    func backchannelLogout(session: SessionRecord, except initiator: String?, clients: [String: ClientRegistration], now: Date) async -> [String] {
        guard let outcome = try? JSONDecoder().decode(CardOutcome.self, from: session.outcomeJSON), let identity = outcome.report.identity,
              let keys = try? await application.oidcKeys.current(), let subjects = try? await application.oidcSubjects.identifiers() else { return [] }
        let targets = session.participants.compactMap { clients[$0] }.filter { $0.clientID != initiator && $0.backchannelLogoutURI != nil }
        let issuer = TokenIssuer(provider: provider)
        let transport = application.backchannel
        return await withTaskGroup(of: (String, String?).self) { group in
            for client in targets {
                let key = keys.signingKey(client.idTokenSigningAlgorithm)
                guard let token = try? issuer.logoutToken(clientID: client.clientID, subject: subjects.subject(codiceFiscale: identity.codiceFiscale, for: client),
                                                          sessionID: session.id, key: key, now: now) else { continue }
                group.addTask {
                    var allowed = CharacterSet.alphanumerics
                    allowed.insert(charactersIn: "-._~")
                    let body = "logout_token=" + (token.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
                    do {
                        _ = try await transport.post(url: client.backchannelLogoutURI!, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded",
                                                     accept: "*/*", timeout: 5, maximumBytes: 65_536)
                        return (client.clientID, nil)
                    } catch {
                        return (client.clientID, "\(error)")
                    }
                }
            }
            var told: [String] = []
            for await (clientID, failure) in group {
                if let failure {
                    try? await application.audit.append(kind: "oidc", fields: ["result": "backchannel_logout_failed", "client": clientID, "detail": failure])
                } else {
                    told.append(clientID)
                }
            }
            return told.sorted()
        }
    }
}
