import Foundation
import LoginOutcome
import XMLSecurity

/// The SAML identity provider as a pipeline of small steps (after crewjam/saml): single sign-on turns an AuthnRequest
/// into a login to start, a finished login into a signed Response (or the SPID error for how it ended), and single
/// logout ends sessions and tells the other services in turn. It reads and writes only through its ``SAMLStore`` and
/// its seams (service providers, the signing key, ``SingleLogoutSessions``), takes the clock from each call and IDs
/// from ``newID``, and answers with a ``SAMLAnswer``; the HTTP side only translates.
public struct IdentityProviderEngine: Sendable {
    public let idp: IdentityProviderConfiguration
    public let store: any SAMLStore
    /// The registered service providers by entity ID, as of now.
    public let serviceProviders: @Sendable () async throws -> [String: ServiceProvider]
    public let signingKey: @Sendable () async throws -> XMLSigningKey
    public let sessions: any SingleLogoutSessions
    public let newID: @Sendable () -> String

    public init(idp: IdentityProviderConfiguration, store: any SAMLStore, serviceProviders: @escaping @Sendable () async throws -> [String: ServiceProvider],
                signingKey: @escaping @Sendable () async throws -> XMLSigningKey, sessions: any SingleLogoutSessions,
                newID: @escaping @Sendable () -> String = ResponseBuilder.randomID) {
        self.idp = idp
        self.store = store
        self.serviceProviders = serviceProviders
        self.signingKey = signingKey
        self.sessions = sessions
        self.newID = newID
    }

    /// Single sign-on: the AuthnRequest is checked (signature with the metadata key only, the SPID rules), accepted
    /// once, and a login started through `startLogin`; a refusal is a Response to the SP's ACS when its metadata names
    /// one, else a page. `auditFields` (the client's address) join the audit record.
    public func singleSignOn(_ message: IncomingMessage, auditFields: [String: String], now: Date,
                             startLogin: (LoginStart) async throws -> StartedLogin) async throws -> SAMLAnswer {
        let directory = try await serviceProviders()
        let validator = AuthnRequestValidator(idp: idp) { directory[$0] }
        let request: ValidatedAuthnRequest
        do { request = try validator.validate(message, now: now) } catch { return try await refusal(error, now: now) }
        // A request ID is accepted once, until it could no longer pass the IssueInstant check.
        let expiry = request.issueInstant + idp.maximumRequestAge + 2 * idp.clockSkew
        guard try await store.rememberOnce(.authnRequest, key: request.issuer + "\n" + request.id, now: now, expiresAt: max(expiry, now + 1)) else {
            return try await refusal(SAMLRequestError(11, reason: "replay", "the request ID \(request.id) was already used"), now: now)
        }
        let login = try await startLogin(LoginStart(requester: request.issuer, level: request.level, comparison: request.comparison,
                                                    attributes: request.attributes, forceFresh: request.forceAuthn))
        // Kept as long as the login itself, so a login that times out is still answered (nr21).
        try await store.storeLoginRequest(request, loginID: login.id, expiresAt: login.keptUntil)
        try await store.audit(auditFields.merging(["result": "request_accepted", "requester": request.issuer, "request": request.id,
                                                   "binding": message.binding.rawValue, "level": request.level.rawValue, "login": login.id]) { _, own in own })
        return .loginStarted(loginID: login.id)
    }

    /// After the card step: the signed Response for the login's request (an assertion, or the SPID error for how the
    /// login ended), posted to the SP's ACS. The request is taken once: a second continuation is `.continuationReplayed`.
    public func finishLogin(_ loginID: String, result: LoginResult, auditFields: [String: String], now: Date) async throws -> FinishedLogin {
        guard let request = try await store.takeLoginRequest(loginID: loginID, now: now) else {
            try await store.audit(["result": "refused", "reason": "continuation_replayed", "login": loginID])
            return .continuationReplayed
        }
        guard let (registration, metadata) = try await serviceProviders()[request.issuer] else { return .serviceProviderRemoved }
        let builder = ResponseBuilder(idp: idp, key: try await signingKey(), makeID: newID)
        var fields = auditFields.merging(["requester": request.issuer, "request": request.id, "login": loginID]) { _, own in own }
        let xml: String
        switch result {
        case .authenticated(let authenticated):
            let level = authenticated.level
            var login = ResponseBuilder.Login(identity: authenticated.citizen, level: level, authenticatedAt: authenticated.authenticatedAt,
                                              sessionIndex: authenticated.sessionID ?? (level == .spidL1 ? newID() : nil), attributes: request.attributes,
                                              allowDerivedAttributes: registration.allowDerivedAttributes, includeOIDNames: registration.profile == .saml2,
                                              signResponse: registration.signResponse,
                                              encryptTo: registration.encryptAssertions ? metadata.encryptionCertificates.first?.derBytes : nil)
            if level == .spidL1, let sessionID = authenticated.sessionID, let sessionExpiresAt = authenticated.sessionExpiresAt {
                // The NameID this service knows the citizen by, for the LogoutRequest a later single logout sends it.
                let nameID = newID()
                login.nameID = nameID
                try await store.recordNameID(nameID, session: sessionID, serviceProvider: request.issuer, expiresAt: sessionExpiresAt)
            }
            xml = try builder.success(login, to: request.destination, now: now)
            fields.merge(["result": "assertion_issued", "encrypted": "\(registration.encryptAssertions)", "level": level.rawValue,
                          "attributes": request.attributes.joined(separator: ",")]) { _, own in own }
        case .ended(let ending):
            let error = SPIDErrorTable.userError(ending)
            xml = try builder.failure(status: SAMLNames.Status.responder, subStatus: error.subStatus, message: error.statusMessage,
                                      to: request.destination, now: now)
            fields.merge(["result": "error_response", "reason": ending.reason, "errorCode": SAMLRequestError.errorCode(error.code)]) { _, own in own }
        }
        try await store.audit(fields)
        return .response(PostedMessage(xml: xml, destination: request.destination, parameter: "SAMLResponse"), result: fields["result"]!)
    }

    /// A refusal of a request: audited and answered at the SP's endpoint when it has one, else left to the caller's
    /// page (an unauthenticated refusal, which the caller audits at a bounded rate).
    func refusal(_ error: SAMLRequestError, now: Date, logout: Bool = false) async throws -> SAMLAnswer {
        guard case .response(let destination) = error.delivery else { return .refused(error) }
        try await store.audit(["result": logout ? "logout_refused" : "refused", "reason": error.reason, "errorCode": error.statusMessage,
                               "detail": error.detail, "requester": destination.serviceProvider, "request": destination.inResponseTo])
        let builder = ResponseBuilder(idp: idp, key: try await signingKey(), makeID: newID)
        let xml = logout ? try builder.logoutResponse(status: error.status, subStatus: error.subStatus, message: error.statusMessage, to: destination, now: now)
                         : try builder.failure(error, to: destination, now: now)
        return .post(PostedMessage(xml: xml, destination: destination, parameter: "SAMLResponse"), refused: error)
    }
}

/// A SAML message for the browser to post (HTTP-POST binding).
public struct PostedMessage: Sendable, Hashable {
    public let xml: String
    public let destination: ResponseDestination
    /// `SAMLResponse` or `SAMLRequest`.
    public let parameter: String
}

/// What the identity provider answers a request with.
public enum SAMLAnswer: Sendable {
    /// A login was started: the browser goes to the card step.
    case loginStarted(loginID: String)
    /// A message to post to a service (a logout step, or the refusal `refused` at the SP's endpoint).
    case post(PostedMessage, refused: SAMLRequestError? = nil)
    /// A refusal with no safe place to send a message: a page for the citizen, not yet audited.
    case refused(SAMLRequestError)
}

/// What finishing a login answers.
public enum FinishedLogin: Sendable {
    /// The Response, and what it said (`assertion_issued` or `error_response`).
    case response(PostedMessage, result: String)
    /// The login's request was already answered.
    case continuationReplayed
    /// The service provider was removed while the citizen logged in.
    case serviceProviderRemoved
}
