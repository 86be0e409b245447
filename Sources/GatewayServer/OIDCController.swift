import CNSValidation
import CodedErrors
import Crypto
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import OIDC

/// The OpenID Connect front end on the public listener: discovery, JWKS, and the authorization endpoint with its
/// continuation, which turns a finished card login into an authorization code. Every refusal is audited.
struct OIDCController: Sendable {
    let application: GatewayApplication
    var provider: ProviderConfiguration { application.oidcProvider }
    static let loginNamespace = "oidc-login"

    func discovery(_ request: Request) async throws -> Response {
        let keys = try await application.oidcKeys.current()
        // Public documents: browser-based relying parties may read them from any origin.
        return try OIDCHTTP.json(provider.discoveryDocument(signingAlgorithms: keys.signing.keys.sorted()), cache: "public, max-age=3600",
                             headers: [.accessControlAllowOrigin: "*"])
    }

    func jwks(_ request: Request) async throws -> Response {
        let keys = try await application.oidcKeys.current()
        let body: JSONObject = ["keys": .array(try keys.published.map { key in try JSONObject.parse(JSONEncoder().encode(key)) }.map(JSONValue.object))]
        // Short caching: a next key must reach clients well within keys.publish_delay.
        return try OIDCHTTP.json(body, cache: "public, max-age=300", headers: [.accessControlAllowOrigin: "*"])
    }

    func authorize(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let parameters = try await OIDCHTTP.parameters(request)
        let clients = try await application.oidcClients.snapshot()
        let validator = AuthorizationRequestValidator(provider: provider) { clients[$0] }
        let now = Date()
        var validated: ValidatedAuthorization
        do {
            validated = try validator.validate(parameters, now: now)
            if let id = validated.requestObjectID {
                let expiry = (validated.requestObjectExpiry ?? now) + provider.clockSkew
                guard try await application.oidcTokens.store.rememberOnce(.requestObject, key: validated.clientID + "\n" + id, now: now,
                                                                           expiresAt: max(expiry, now + 1)) else {
                    throw OIDCError(.invalidRequestObject, reason: "request_object_replayed", "this request object was already used",
                                    delivery: .redirect(uri: validated.redirectURI, state: validated.state))
                }
            }
        } catch let error as OIDCError {
            return try await refuse(error, client: parameters["client_id"], pages: pages, context: context)
        }
        let (login, binding) = try await application.startBoundLogin(LoginRequest(
            requester: validated.clientID, level: validated.level, comparison: .minimum, attributes: validated.consentAttributes,
            forceFresh: validated.forceFresh, returnPath: "/oidc/continue", lifetime: application.configuration.loginLifetime))
        validated.requestObjectExpiry = nil
        try await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.loginNamespace, id: login.id,
                                                                         payload: try JSONEncoder().encode(validated), expiresAt: login.expiresAt))
        try await application.audit.append(kind: "oidc", fields: ["result": "request_accepted", "client": validated.clientID, "login": login.id,
                                                                  "level": validated.level.rawValue, "forceFresh": "\(validated.forceFresh)",
                                                                  "claims": validated.userinfoClaims.joined(separator: ","), "address": context.clientAddress])
        var location = application.configuration.cardURL + "/login/card?login=" + login.id
        if let locale = validated.uiLocale { location += "&lang=" + locale }
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        response.setCookie(binding)
        return response
    }

    /// After the card listener: the code for the login, or the OAuth error for how it ended.
    func continueLogin(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        guard let record = try await application.boundLogin(request) else {
            return try await application.refuseContinuation(request, kind: "oidc", context: context.origin)
        }
        let loginID = record.id
        let now = Date()
        guard case .redeemed(let stored) = try await application.storage.redeemOneTimeCode(namespace: Self.loginNamespace, id: loginID, now: now),
              let validated = try? JSONDecoder().decode(ValidatedAuthorization.self, from: stored.payload) else {
            try await application.audit.append(kind: "oidc", fields: ["result": "refused", "reason": "continuation_replayed", "login": loginID])
            return application.html(pages.loginFailure(.wrongState(record.state)), status: LoginRefusal.status)
        }
        let clients = try await application.oidcClients.snapshot()
        guard let client = clients[validated.clientID] else {
            try await application.audit.append(kind: "oidc", fields: ["result": "refused", "reason": "client_removed", "client": validated.clientID])
            return application.html(pages.loginFailure(.unknownLogin), status: .notFound)
        }
        let outcome = LoginFlow.outcome(of: record)
        guard record.state == .completed, let outcome, let identity = outcome.report.identity, let level = outcome.report.level else {
            let ending = LoginFlow.ending(of: record) ?? .abandoned
            let error = OIDCError(.accessDenied, reason: ending.reason, Self.describe(ending), delivery: .redirect(uri: validated.redirectURI, state: validated.state))
            return try await refuse(error, client: client.clientID, pages: pages, context: context)
        }
        var session: SessionRecord?
        if let sessionID = outcome.sessionID { session = try await application.storage.session(id: sessionID) }
        let login = AuthenticatedLogin(identity: identity, level: level, authenticatedAt: outcome.authenticatedAt, sessionID: session?.id,
                                       sessionExpiresAt: session?.expiresAt)
        let (code, _) = try await application.oidcTokens.issueCode(for: validated, client: client, login: login,
                                                                   subjects: try await application.oidcSubjects.identifiers(),
                                                                   auditFields: ["login": loginID, "address": context.clientAddress], now: now)
        Counter(label: "cnsgw_oidc_codes_issued_total").increment()
        var response = OIDCHTTP.redirect(validated.redirectURI, ["code": code, "state": validated.state, "iss": provider.issuer])
        GatewayApplication.clearBinding(&response, loginID: loginID, path: record.returnPath)
        return response
    }

    static func describe(_ ending: LoginFlow.Ending) -> String {
        switch ending {
        case .revoked: "the citizen's card certificate is revoked"
        case .levelTooLow: "the card does not reach the requested level of assurance"
        case .denied: "the citizen did not consent"
        case .abandoned: "the login was abandoned before it ended"
        case .refused(let why): "the card was refused (\(why))"
        }
    }

    /// An authorization error: on a page while the client or its redirect URI is not trusted, else back to the client.
    func refuse(_ error: OIDCError, client: String?, pages: CardLoginPages, context: PublicRequestContext) async throws -> Response {
        Counter(label: "cnsgw_oidc_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
        try await application.refusals.append(kind: "oidc", fields: ["result": "refused", "reason": error.reason, "error": error.code.rawValue,
                                                                     "detail": error.detail, "client": client ?? "", "address": context.clientAddress])
        switch error.delivery {
        case .redirect(let uri, let state):
            return OIDCHTTP.redirect(uri, ["error": error.code.rawValue, "error_description": error.detail, "state": state, "iss": provider.issuer])
        case .page, .json:
            application.logger.warning("OIDC request refused", metadata: ["reason": "\(error.reason)", "detail": "\(error.detail)"])
            return application.html(pages.oidcRefused(error), status: .badRequest)
        }
    }
}
