import Foundation
import GatewayLogin
import GatewayStorage
import Hummingbird
import LoginOutcome
import Metrics
import OIDC

/// The OpenID Connect front channel over HTTP: discovery, JWKS, the authorization endpoint with its continuation
/// after the card step, and RP-initiated logout. Each handler reads the request, calls one ``OpenIDProviderEngine``
/// entry point and writes its answer.
struct OIDCController: Sendable {
    let engine: OpenIDProviderEngine
    let sessions: any OIDCSessions
    let application: GatewayApplication

    func discovery(_ request: Request) async throws -> Response {
        let keys = try await engine.keys()
        // Public documents: browser-based relying parties may read them from any origin.
        return try OIDCHTTP.json(engine.provider.discoveryDocument(signingAlgorithms: keys.signing.keys.sorted()), cache: "public, max-age=3600",
                                 headers: [.accessControlAllowOrigin: "*"])
    }

    func jwks(_ request: Request) async throws -> Response {
        let keys = try await engine.keys()
        let body: JSONObject = ["keys": .array(try keys.published.map { key in try JSONObject.parse(JSONEncoder().encode(key)) }.map(JSONValue.object))]
        // Short caching: a next key must reach clients well within keys.publish_delay.
        return try OIDCHTTP.json(body, cache: "public, max-age=300", headers: [.accessControlAllowOrigin: "*"])
    }

    func authorize(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let parameters = try await OIDCHTTP.parameters(request)
        var binding: Cookie?
        let answer = try await engine.authorize(parameters, auditFields: ["address": context.clientAddress], now: Date()) { start in
            try await application.startBoundLogin(start, returnPath: "/oidc/continue", cookie: &binding)
        }
        return try await respond(answer, client: parameters["client_id"], request: request, context: context, binding: binding)
    }

    /// After the card listener: the code for the login, or the OAuth error for how it ended.
    func continueLogin(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        guard let record = try await application.boundLogin(request) else {
            return try await application.refuseContinuation(request, kind: "oidc", context: context.origin)
        }
        let answer = try await engine.finishAuthorization(record.id, result: try await LoginFlow(storage: application.storage).result(of: record),
                                                          subjects: try await application.oidcSubjects.identifiers(),
                                                          auditFields: ["address": context.clientAddress], now: Date())
        if case .redirect = answer { Counter(label: "cnsgw_oidc_codes_issued_total").increment() }
        var response = try await respond(answer, client: record.requester, request: request, context: context, loginState: record.state)
        GatewayApplication.clearBinding(&response, loginID: record.id, path: record.returnPath)
        return response
    }

    func endSession(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        switch try await engine.endSession(try await OIDCHTTP.parameters(request), sessions: sessions, auditFields: ["address": context.clientAddress],
                                           now: Date()) {
        case .redirect(let uri, let state): return OIDCHTTP.redirect(uri, [("state", state)])
        case .loggedOut: return application.html(pages.loggedOut(), status: .ok)
        case .refused(let error): return application.html(pages.oidcRefused(error), status: .badRequest)
        }
    }

    /// Writes an authorization answer: to the card step (with the login's binding cookie), a redirect to the client, or a
    /// page while the client or its redirect URI is not trusted; refusals are counted and audited (at a bounded rate).
    func respond(_ answer: AuthorizationAnswer, client: String?, request: Request, context: PublicRequestContext, binding: Cookie? = nil,
                 loginState: PendingLoginRecord.State? = nil) async throws -> Response {
        let pages = application.pages(for: request)
        switch answer {
        case .loginStarted(let loginID, let locale):
            var location = application.configuration.cardURL + "/login/card?login=" + loginID
            if let locale { location += "&lang=" + locale }
            var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
            if let binding { response.setCookie(binding) }
            return response
        case .redirect(let uri, let parameters):
            return OIDCHTTP.redirect(uri, parameters)
        case .continuationReplayed:
            return application.html(pages.loginFailure(.wrongState(loginState ?? .completed)), status: LoginRefusal.status)
        case .clientRemoved:
            return application.html(pages.loginFailure(.unknownLogin), status: .notFound)
        case .refused(let error):
            Counter(label: "cnsgw_oidc_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
            try await application.refusals.append(kind: "oidc", fields: ["result": "refused", "reason": error.reason, "error": error.code.rawValue,
                                                                         "detail": error.detail, "client": client ?? "", "address": context.clientAddress])
            switch error.delivery {
            case .redirect(let uri, let state):
                return OIDCHTTP.redirect(uri, [("error", error.code.rawValue), ("error_description", error.detail), ("state", state),
                                               ("iss", engine.provider.issuer)])
            case .page, .json:
                application.logger.warning("OIDC request refused", metadata: ["reason": "\(error.reason)", "detail": "\(error.detail)"])
                return application.html(pages.oidcRefused(error), status: .badRequest)
            }
        }
    }
}
