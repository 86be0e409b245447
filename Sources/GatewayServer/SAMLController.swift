import CNSValidation
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import Hummingbird
import Metrics
import NIOCore
import SAML
import XMLSecurity

/// The SAML front end on the public listener: metadata, SSO (HTTP-Redirect and HTTP-POST) and the continuation
/// that turns a finished card login into a signed Response. Every refusal is audited with its reason.
struct SAMLController: Sendable {
    let application: GatewayApplication
    var idp: IdentityProviderConfiguration { IdentityProviderConfiguration(baseURL: application.configuration.publicURL) }
    static let contextNamespace = "saml-login"
    static let nameIDNamespace = "saml-session-nameid"
    static let logoutNamespace = "saml-logout"

    func metadata(_ request: Request) async throws -> Response {
        let idp = self.idp
        let xml = try await application.samlKeys.metadata(now: Date()) { key, certificates, now in
            try IdentityProviderMetadata.build(idp, certificatesPEM: certificates, signingKey: key, now: now)
        }
        return Response(status: .ok, headers: [.contentType: "application/samlmetadata+xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    func singleSignOn(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let message: IncomingMessage
        do { message = try await Self.incoming(request) } catch let error as SAMLRequestError {
            return try await refuse(error, pages: pages, request: request)
        }
        let directory = try await application.serviceProviders.snapshot()
        let validator = AuthnRequestValidator(idp: idp) { directory[$0] }
        let now = Date()
        let validated: ValidatedAuthnRequest
        do { validated = try validator.validate(message, now: now) } catch {
            return try await refuse(error, pages: pages, request: request)
        }
        // A request ID is accepted once, until it could no longer pass the IssueInstant check.
        let expiry = validated.issueInstant + idp.maximumRequestAge + 2 * idp.clockSkew
        guard try await application.storage.rememberOnce(namespace: "saml-authn-request", key: validated.issuer + "\n" + validated.id,
                                                         now: now, expiresAt: max(expiry, now + 1)) else {
            return try await refuse(SAMLRequestError(11, reason: "replay", "the request ID \(validated.id) was already used"), pages: pages, request: request)
        }
        let (login, binding) = try await application.startBoundLogin(LoginRequest(
            requester: validated.issuer, level: validated.level, comparison: LevelComparison(rawValue: validated.comparison) ?? .minimum,
            attributes: validated.attributes, forceFresh: validated.forceAuthn, returnPath: "/saml/continue", lifetime: application.configuration.loginLifetime))
        try await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.contextNamespace, id: login.id,
                                                                         payload: try JSONEncoder().encode(validated), expiresAt: login.expiresAt))
        try await application.audit.append(kind: "saml", fields: ["result": "request_accepted", "requester": validated.issuer, "request": validated.id,
                                                                  "binding": message.binding.rawValue, "level": validated.level.rawValue, "login": login.id,
                                                                  "client": context.clientAddress])
        var response = Response(status: .seeOther, headers: [.location: application.configuration.cardURL + "/login/card?login=" + login.id,
                                                             .cacheControl: "no-store"])
        response.setCookie(binding)
        return response
    }

    /// After the card listener: the Response for the login (success, or the SPID error for how it ended).
    func continueLogin(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        guard let record = try await application.boundLogin(request) else {
            return try await application.refuseContinuation(request, kind: "saml", context: context.origin)
        }
        let loginID = record.id
        let redemption = try await application.storage.redeemOneTimeCode(namespace: Self.contextNamespace, id: loginID, now: Date())
        guard case .redeemed(let code) = redemption, let validated = try? JSONDecoder().decode(ValidatedAuthnRequest.self, from: code.payload) else {
            try await application.audit.append(kind: "saml", fields: ["result": "refused", "reason": "continuation_replayed", "login": loginID])
            return application.html(pages.loginFailure(.wrongState(record.state)), status: LoginRefusal.status)
        }
        let directory = try await application.serviceProviders.snapshot()
        guard let (registration, metadata) = directory[validated.issuer] else {
            return application.html(pages.loginFailure(.unknownLogin), status: .notFound)
        }
        let keys = try await application.samlKeys.current()
        let builder = ResponseBuilder(idp: idp, key: keys.key)
        let now = Date()
        let outcome = LoginFlow.outcome(of: record)
        let xml: String
        var fields = ["requester": validated.issuer, "request": validated.id, "login": loginID, "client": context.clientAddress]
        if record.state == .completed, let outcome, let identity = outcome.report.identity, let level = outcome.report.level {
            var login = ResponseBuilder.Login(identity: identity, level: level, authenticatedAt: outcome.authenticatedAt,
                                              sessionIndex: outcome.sessionID ?? (level == .spidL1 ? ResponseBuilder.randomID() : nil),
                                              attributes: validated.attributes, allowDerivedAttributes: registration.allowDerivedAttributes,
                                              includeOIDNames: registration.profile == .saml2, signResponse: registration.signResponse,
                                              encryptTo: registration.encryptAssertions ? metadata.encryptionCertificates.first?.derBytes : nil)
            if level == .spidL1, let sessionID = outcome.sessionID, let session = try await application.storage.session(id: sessionID) {
                // The NameID this service knows the citizen by, for the LogoutRequest a later single logout sends it.
                let nameID = ResponseBuilder.randomID()
                login.nameID = nameID
                try? await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.nameIDNamespace, id: sessionID + "\n" + validated.issuer,
                                                                                  payload: Data(nameID.utf8), expiresAt: session.expiresAt))
            }
            xml = try builder.success(login, to: validated.destination, now: now)
            fields["result"] = "assertion_issued"
            fields["encrypted"] = "\(registration.encryptAssertions)"
            fields["level"] = level.rawValue
            fields["attributes"] = validated.attributes.joined(separator: ",")
        } else {
            let ending = LoginFlow.ending(of: record) ?? .abandoned
            let (code, sub) = Self.userError(ending)
            let reason = ending.reason
            xml = try builder.failure(status: SAMLNames.Status.responder, subStatus: sub, message: "ErrorCode nr\(code)", to: validated.destination, now: now)
            fields["result"] = "error_response"
            fields["reason"] = reason
            fields["errorCode"] = "nr\(code)"
        }
        Counter(label: "cnsgw_saml_responses_total", dimensions: [("result", fields["result"]!)]).increment()
        try await application.audit.append(kind: "saml", fields: fields)
        var response = postForm(xml, to: validated.destination, request: request)
        GatewayApplication.clearBinding(&response, loginID: loginID, path: record.returnPath)
        return response
    }

    /// A service provider's LogoutRequest (SP-initiated single logout, DOMAIN.md §3.6). The IdP session named by
    /// SessionIndex ends; when other services took part in it, they cannot be told from here, so the answer is
    /// PartialLogout — as it is when the named session no longer exists.
    func singleLogout(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let message: IncomingMessage
        do { message = try await Self.incoming(request) } catch let error as SAMLRequestError {
            return try await refuseLogout(error, pages: pages, request: request)
        }
        let directory = try await application.serviceProviders.snapshot()
        let validator = AuthnRequestValidator(idp: idp) { directory[$0] }
        let now = Date()
        if message.parameter == "SAMLResponse" {
            return try await logoutAnswered(message, validator: validator, pages: pages, request: request, now: now)
        }
        let logout: ValidatedLogoutRequest
        do { logout = try validator.validateLogout(message, now: now) } catch {
            return try await refuseLogout(error, pages: pages, request: request)
        }
        guard try await application.storage.rememberOnce(namespace: "saml-logout-request", key: logout.issuer + "\n" + logout.id, now: now,
                                                         expiresAt: now + idp.maximumRequestAge + 2 * idp.clockSkew) else {
            return try await refuseLogout(SAMLRequestError(11, reason: "replay", "the LogoutRequest ID \(logout.id) was already used"), pages: pages, request: request)
        }
        var partial = false
        var ended: [String] = []
        var others: [(session: String, sp: String)] = []
        var toldByBackchannel: [String] = []
        let clients = try await application.oidcClients.snapshot()
        for index in logout.sessionIndexes {
            guard let session = try await application.storage.session(id: index), session.participants.contains(logout.issuer) else {
                partial = true   // expired, or not a session this service took part in
                continue
            }
            // OIDC clients of the session are told over their back channel; one that cannot be makes it partial.
            let oidcParticipants = session.participants.filter { clients[$0] != nil }
            if !oidcParticipants.isEmpty {
                let told = await OIDCLogoutController(application: application).backchannelLogout(session: session, except: nil, clients: clients, now: now)
                toldByBackchannel += told
                if Set(told) != Set(oidcParticipants) { partial = true }
            }
            others += session.participants.filter { $0 != logout.issuer && clients[$0] == nil }.map { (index, $0) }
            try? await application.storage.deleteSession(id: index)
            ended.append(index)
        }
        try await application.audit.append(kind: "saml", fields: ["result": "logout", "requester": logout.issuer, "request": logout.id,
                                                                  "sessions": ended.joined(separator: ","), "others": others.map(\.sp).joined(separator: ","),
                                                                  "backchannel": toldByBackchannel.joined(separator: ","),
                                                                  "client": context.clientAddress])
        // The other services of the session are told in turn (front channel), then the requester gets the answer.
        let state = LogoutPropagation(original: logout.destination, remaining: others.map { .init(session: $0.session, serviceProvider: $0.sp) },
                                      failed: partial, pendingRequestID: nil, pendingServiceProvider: nil)
        return try await propagate(state, directory: directory, request: request, now: now)
    }

    /// A single logout in progress: who asked, who is still to be told, whether any step failed.
    struct LogoutPropagation: Codable {
        struct Participant: Codable {
            let session: String
            let serviceProvider: String
        }
        let original: ResponseDestination
        var remaining: [Participant]
        var failed: Bool
        var pendingRequestID: String?
        var pendingServiceProvider: String?
    }

    /// Sends the next LogoutRequest, or the final LogoutResponse (PartialLogout if any service could not be told).
    func propagate(_ state: LogoutPropagation, directory: [String: ServiceProvider], request: Request, now: Date) async throws -> Response {
        var state = state
        let keys = try await application.samlKeys.current()
        let builder = ResponseBuilder(idp: idp, key: keys.key)
        while let next = state.remaining.first {
            state.remaining.removeFirst()
            guard let (_, metadata) = directory[next.serviceProvider],
                  let slo = metadata.singleLogoutServices.first(where: { $0.binding == SAMLNames.postBinding }),
                  case .redeemed(let record) = try await application.storage.redeemOneTimeCode(namespace: Self.nameIDNamespace,
                                                                                              id: next.session + "\n" + next.serviceProvider, now: now) else {
                state.failed = true   // unknown now, no HTTP-POST logout endpoint, or no NameID on record: cannot be told
                try await application.audit.append(kind: "saml", fields: ["result": "logout_unreachable", "requester": next.serviceProvider])
                continue
            }
            let requestID = ResponseBuilder.randomID()
            state.pendingRequestID = requestID
            state.pendingServiceProvider = next.serviceProvider
            let stateID = ResponseBuilder.randomID()
            try await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.logoutNamespace, id: stateID,
                                                                             payload: try JSONEncoder().encode(state), expiresAt: now + 600))
            let xml = try builder.logoutRequest(id: requestID, nameID: String(decoding: record.payload, as: UTF8.self), sessionIndex: next.session,
                                                to: next.serviceProvider, location: slo.location, now: now)
            try await application.audit.append(kind: "saml", fields: ["result": "logout_request_sent", "requester": next.serviceProvider, "request": requestID])
            return postForm(xml, to: ResponseDestination(serviceProvider: next.serviceProvider, assertionConsumerServiceURL: slo.location,
                                                         inResponseTo: "", relayState: stateID), request: request, parameter: "SAMLRequest")
        }
        let xml = try builder.logoutResponse(status: state.failed ? SAMLNames.Status.requester : SAMLNames.Status.success,
                                             subStatus: state.failed ? SAMLNames.Status.partialLogout : nil, to: state.original, now: now)
        try await application.audit.append(kind: "saml", fields: ["result": state.failed ? "logout_partial" : "logout_complete",
                                                                  "requester": state.original.serviceProvider, "request": state.original.inResponseTo])
        return postForm(xml, to: state.original, request: request)
    }

    /// A service's LogoutResponse to the gateway's LogoutRequest: record how it went and go on.
    func logoutAnswered(_ message: IncomingMessage, validator: AuthnRequestValidator, pages: CardLoginPages, request: Request, now: Date) async throws -> Response {
        guard let stateID = message.relayState,
              case .redeemed(let record) = try await application.storage.redeemOneTimeCode(namespace: Self.logoutNamespace, id: stateID, now: now),
              var state = try? JSONDecoder().decode(LogoutPropagation.self, from: record.payload) else {
            return try await refuseLogout(SAMLRequestError(8, reason: "logout_state", "this LogoutResponse answers no logout in progress"), pages: pages, request: request)
        }
        do {
            let answer = try validator.validateLogoutResponse(message, now: now)
            if answer.issuer != state.pendingServiceProvider || answer.inResponseTo != state.pendingRequestID || !answer.success { state.failed = true }
            try await application.audit.append(kind: "saml", fields: ["result": answer.success ? "logout_confirmed" : "logout_failed",
                                                                      "requester": answer.issuer, "request": answer.inResponseTo])
        } catch let error as SAMLRequestError {
            state.failed = true
            try await application.audit.append(kind: "saml", fields: ["result": "logout_answer_refused", "reason": error.reason, "detail": error.detail])
        }
        return try await propagate(state, directory: try await application.serviceProviders.snapshot(), request: request, now: now)
    }

    func refuseLogout(_ error: SAMLRequestError, pages: CardLoginPages, request: Request) async throws -> Response {
        Counter(label: "cnsgw_saml_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
        var fields = ["result": "logout_refused", "reason": error.reason, "errorCode": error.statusMessage, "detail": error.detail]
        guard case .response(let destination) = error.delivery else {
            try await application.audit.append(kind: "saml", fields: fields)
            return application.html(pages.samlRefused(error), status: .forbidden)
        }
        fields["requester"] = destination.serviceProvider
        try await application.audit.append(kind: "saml", fields: fields)
        let keys = try await application.samlKeys.current()
        let xml = try ResponseBuilder(idp: idp, key: keys.key).logoutResponse(status: error.status, subStatus: error.subStatus, message: error.statusMessage,
                                                                              to: destination, now: Date())
        return postForm(xml, to: destination, request: request)
    }

    /// SPID user-side errors (DOMAIN.md §3.4): how the login ended, as `ErrorCode nrNN`.
    static func userError(_ ending: LoginFlow.Ending) -> (Int, String?) {
        switch ending {
        case .abandoned: (25, SAMLNames.Status.authnFailed)
        case .revoked: (23, SAMLNames.Status.authnFailed)
        case .refused: (19, SAMLNames.Status.authnFailed)
        case .levelTooLow: (20, SAMLNames.Status.noAuthnContext)
        case .denied: (22, SAMLNames.Status.authnFailed)
        }
    }

    func refuse(_ error: SAMLRequestError, pages: CardLoginPages, request: Request) async throws -> Response {
        var fields = ["result": "refused", "reason": error.reason, "errorCode": error.statusMessage, "detail": error.detail]
        Counter(label: "cnsgw_saml_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
        switch error.delivery {
        case .page:
            // No service provider stands behind the request: an unauthenticated refusal, audited at a bounded rate.
            try await application.refusals.append(kind: "saml", fields: fields)
            application.logger.warning("SAML request refused", metadata: ["reason": "\(error.reason)", "detail": "\(error.detail)"])
            return application.html(pages.samlRefused(error), status: .forbidden)
        case .response(let destination):
            fields["requester"] = destination.serviceProvider
            fields["request"] = destination.inResponseTo
            try await application.audit.append(kind: "saml", fields: fields)
            let keys = try await application.samlKeys.current()
            let xml = try ResponseBuilder(idp: idp, key: keys.key).failure(error, to: destination, now: Date())
            return postForm(xml, to: destination, request: request)
        }
    }

    func postForm(_ xml: String, to destination: ResponseDestination, request: Request, parameter: String = "SAMLResponse") -> Response {
        let lang = PageRenderer.language(query: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
        let html = PostForm.html(action: destination.assertionConsumerServiceURL, parameter: parameter, message: xml, relayState: destination.relayState,
                                 title: lang == .it ? "Ritorno al servizio" : "Back to the service", button: lang == .it ? "Continua" : "Continue",
                                 lang: lang.rawValue)
        return application.html(html, status: .ok)
    }

    /// The SAML message of a request, by its binding: HTTP-POST form or HTTP-Redirect query.
    static func incoming(_ request: Request) async throws -> IncomingMessage {
        if request.method == .post {
            let body = try await request.body.collect(upTo: IncomingMessage.maximumEncodedSize * 2 + 4096)
            let fields = URLEncodedForm.decode(String(buffer: body))
            return try IncomingMessage.post(form: fields, parameter: fields["SAMLResponse"] != nil ? "SAMLResponse" : "SAMLRequest")
        }
        let query = request.uri.query ?? ""
        let isResponse = query.hasPrefix("SAMLResponse=") || query.contains("&SAMLResponse=")
        return try IncomingMessage.redirect(rawQuery: query, parameter: isResponse ? "SAMLResponse" : "SAMLRequest")
    }


}
