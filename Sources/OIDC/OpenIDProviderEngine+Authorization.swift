import Foundation
import LoginOutcome

/// The front channel of the OpenID Provider: an authorization request becomes a login to start, and a finished login
/// the redirect back to the client with a code (or the OAuth error for how the login ended).
extension OpenIDProviderEngine {
    /// The authorization endpoint (OIDC Core §3.1.2, the SPID/CIE profile): the request is checked, a request object
    /// accepted once, and a login started through `startLogin`. A refusal is `.refused`, for the caller to redirect
    /// or show as its delivery says (and to audit, at a bounded rate while no trusted client stands behind it).
    public func authorize(_ parameters: [String: String], auditFields: [String: String], now: Date,
                          startLogin: (LoginStart) async throws -> StartedLogin) async throws -> AuthorizationAnswer {
        var request: ValidatedAuthorization
        do {
            let clients = try await clients(resolving: parameters["client_id"], mayResolve: true, now: now)
            let decryption = try await keys().decryption
            request = try AuthorizationRequestValidator(provider: provider, decryptionKeys: decryption) { clients[$0] }.validate(parameters, now: now)
            if let id = request.requestObjectID {
                let expiry = (request.requestObjectExpiry ?? now) + provider.clockSkew
                guard try await store.rememberOnce(.requestObject, key: request.clientID + "\n" + id, now: now, expiresAt: max(expiry, now + 1)) else {
                    throw OIDCError(.invalidRequestObject, reason: "request_object_replayed", "this request object was already used",
                                    delivery: .redirect(uri: request.redirectURI, state: request.state))
                }
            }
        } catch let error as OIDCError {
            return .refused(error)
        }
        let login = try await startLogin(LoginStart(requester: request.clientID, level: request.level, comparison: .minimum,
                                                    attributes: request.consentAttributes, forceFresh: request.forceFresh))
        request.requestObjectExpiry = nil
        // Kept as long as the login itself, so a login that times out is still answered (access_denied).
        try await store.storeAuthorization(request, loginID: login.id, expiresAt: login.keptUntil)
        try await store.audit(auditFields.merging(["result": "request_accepted", "client": request.clientID, "login": login.id,
                                                   "level": request.level.rawValue, "forceFresh": "\(request.forceFresh)",
                                                   "claims": request.userinfoClaims.joined(separator: ",")]) { _, own in own })
        return .loginStarted(loginID: login.id, uiLocale: request.uiLocale)
    }

    /// After the card step: the code for a login the citizen finished, or `access_denied` for how it ended, to the
    /// redirect URI of the login's request (taken once: a second continuation is `.continuationReplayed`).
    public func finishAuthorization(_ loginID: String, result: LoginResult, subjects: SubjectIdentifiers, auditFields: [String: String],
                                    now: Date) async throws -> AuthorizationAnswer {
        guard let request = try await store.takeAuthorization(loginID: loginID, now: now) else {
            try await store.audit(["result": "refused", "reason": "continuation_replayed", "login": loginID])
            return .continuationReplayed
        }
        let current: ClientRegistration?
        do { current = try await clients(resolving: request.clientID, mayResolve: true, now: now)[request.clientID] } catch let error as OIDCError {
            try await store.audit(["result": "refused", "reason": error.reason, "client": request.clientID, "login": loginID])
            return .refused(error.delivered(.page))
        }
        guard let client = current else {
            try await store.audit(["result": "refused", "reason": "client_removed", "client": request.clientID])
            return .clientRemoved
        }
        switch result {
        case .ended(let ending):
            return .refused(OIDCError(.accessDenied, reason: ending.reason, Self.describe(ending), delivery: .redirect(uri: request.redirectURI, state: request.state)))
        case .authenticated(let login):
            let (code, _) = try await issueCode(for: request, client: client, login: login, subjects: subjects,
                                                auditFields: auditFields.merging(["login": loginID]) { _, own in own }, now: now)
            return .redirect(uri: request.redirectURI, parameters: [("code", code), ("state", request.state), ("iss", provider.issuer)])
        }
    }

    /// The `error_description` of a login that did not complete.
    static func describe(_ ending: LoginEnding) -> String {
        switch ending {
        case .revoked: "the citizen's card certificate is revoked"
        case .levelTooLow: "the card does not reach the requested level of assurance"
        case .denied: "the citizen did not consent"
        case .abandoned: "the login was abandoned before it ended"
        case .timedOut: "the login timed out before the card step finished"
        case .refused(let why): "the card was refused (\(why))"
        }
    }

    /// The authorization code for a login the citizen finished and consented to: a grant holding exactly the consented
    /// claims' values, stored with the code's hash; `auditFields` (the login, the address) join its audit record. The
    /// session's `sid` is recorded for RP-initiated logout.
    public func issueCode(for request: ValidatedAuthorization, client: ClientRegistration, login: AuthenticatedLogin,
                          subjects: SubjectIdentifiers, auditFields: [String: String] = [:], now: Date) async throws -> (code: String, grant: AuthorizationGrant) {
        let lifetime = request.scopes.contains("offline_access") ? provider.refreshTokenLifetime
                                                                 : provider.authorizationCodeLifetime + provider.accessTokenLifetime
        let grant = AuthorizationGrant(grantID: tokens.newID(), clientID: client.clientID, redirectURI: request.redirectURI,
                                       codeChallenge: request.codeChallenge, nonce: request.nonce, scopes: request.scopes, level: login.level,
                                       authTime: login.authenticatedAt, subject: subjects.subject(codiceFiscale: login.citizen.codiceFiscale, for: client),
                                       sessionID: login.sessionID, userinfoClaims: request.userinfoClaims, idTokenClaims: request.idTokenClaims,
                                       released: ReleasedClaims(request.userinfoClaims + request.idTokenClaims, identity: login.citizen),
                                       expiresAt: now + lifetime)
        let code = tokens.newToken()
        try await store.createGrant(grant, codeHash: Self.hash(code), codeExpiresAt: now + provider.authorizationCodeLifetime)
        if let sessionID = login.sessionID, let expiresAt = login.sessionExpiresAt {
            try await store.recordSessionIdentifier(TokenIssuer.sessionIdentifier(sessionID), sessionID: sessionID, expiresAt: expiresAt)
        }
        try await store.audit(auditFields.merging(["result": "code_issued", "client": client.clientID, "grant": grant.grantID, "level": login.level.rawValue,
                                                   "claims": Set(grant.userinfoClaims).sorted().joined(separator: ",")]) { _, engine in engine })
        return (code, grant)
    }
}

/// What the authorization endpoint and its continuation answer.
public enum AuthorizationAnswer: Sendable {
    /// A login was started: the browser goes to the card step (in the request's `ui_locales` language, if any).
    case loginStarted(loginID: String, uiLocale: String?)
    /// Back to the client with these parameters (`code`, `state`, `iss`).
    case redirect(uri: String, parameters: [(String, String?)])
    /// An OAuth error, delivered as it says (to the redirect URI, or as a page).
    case refused(OIDCError)
    /// The login's request was already answered.
    case continuationReplayed
    /// The client was removed while the citizen logged in.
    case clientRemoved
}
