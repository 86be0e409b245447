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
    static let codeNamespace = "oidc-code"
    static let grantNamespace = "oidc-grant"
    static let refreshNamespace = "oidc-refresh"
    static let sessionNamespace = "oidc-sid"

    func discovery(_ request: Request) async throws -> Response {
        let keys = try await application.oidcKeys.current()
        // Public documents: browser-based relying parties may read them from any origin.
        return try Self.json(provider.discoveryDocument(signingAlgorithms: keys.signing.keys.sorted()), cache: "public, max-age=3600",
                             headers: [.accessControlAllowOrigin: "*"])
    }

    func jwks(_ request: Request) async throws -> Response {
        let keys = try await application.oidcKeys.current()
        let body: JSONObject = ["keys": .array(try keys.published.map { key in try JSONObject.parse(JSONEncoder().encode(key)) }.map(JSONValue.object))]
        // Short caching: a next key must reach clients well within keys.publish_delay.
        return try Self.json(body, cache: "public, max-age=300", headers: [.accessControlAllowOrigin: "*"])
    }

    func authorize(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let parameters = try await Self.parameters(request)
        let clients = try await application.oidcClients.snapshot()
        let validator = AuthorizationRequestValidator(provider: provider) { clients[$0] }
        let now = Date()
        var validated: ValidatedAuthorization
        do {
            validated = try validator.validate(parameters, now: now)
            if let id = validated.requestObjectID {
                let expiry = (validated.requestObjectExpiry ?? now) + provider.clockSkew
                guard try await application.storage.rememberOnce(namespace: "oidc-request-object", key: validated.clientID + "\n" + id, now: now,
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
        let subjects = try await application.oidcSubjects.identifiers()
        let lifetime = validated.scopes.contains("offline_access") ? provider.refreshTokenLifetime
                                                                     : provider.authorizationCodeLifetime + provider.accessTokenLifetime
        let grant = AuthorizationGrant(grantID: TokenIssuer.randomID(), clientID: client.clientID, redirectURI: validated.redirectURI,
                                       codeChallenge: validated.codeChallenge, nonce: validated.nonce, scopes: validated.scopes, level: level,
                                       authTime: outcome.authenticatedAt, subject: subjects.subject(codiceFiscale: identity.codiceFiscale, for: client),
                                       sessionID: outcome.sessionID, userinfoClaims: IdentityClaims.values(validated.userinfoClaims, identity: identity),
                                       idTokenClaims: IdentityClaims.values(validated.idTokenClaims, identity: identity), expiresAt: now + lifetime)
        let payload = try JSONEncoder().encode(grant)
        try await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.grantNamespace, id: grant.grantID, payload: payload, expiresAt: grant.expiresAt))
        let code = TokenIssuer.randomToken()
        try await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.codeNamespace, id: Self.hash(code), payload: payload,
                                                                         expiresAt: now + provider.authorizationCodeLifetime))
        if let sessionID = outcome.sessionID, let session = try await application.storage.session(id: sessionID) {
            // The `sid` clients see, back to the session it names (RP-initiated and back-channel logout). Stored by the
            // session's first OIDC login; later ones find it there (`alreadyExists`, ignored).
            try? await application.storage.storeOneTimeCode(OneTimeCodeRecord(namespace: Self.sessionNamespace, id: TokenIssuer.sessionIdentifier(sessionID),
                                                                              payload: Data(sessionID.utf8), expiresAt: session.expiresAt))
        }
        try await application.audit.append(kind: "oidc", fields: ["result": "code_issued", "client": client.clientID, "login": loginID, "grant": grant.grantID,
                                                                  "level": level.rawValue, "claims": grant.userinfoClaims.keys.sorted().joined(separator: ","),
                                                                  "address": context.clientAddress])
        Counter(label: "cnsgw_oidc_codes_issued_total").increment()
        var response = Self.redirect(validated.redirectURI, ["code": code, "state": validated.state, "iss": provider.issuer])
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
            return Self.redirect(uri, ["error": error.code.rawValue, "error_description": error.detail, "state": state, "iss": provider.issuer])
        case .page, .json:
            application.logger.warning("OIDC request refused", metadata: ["reason": "\(error.reason)", "detail": "\(error.detail)"])
            return application.html(pages.oidcRefused(error), status: .badRequest)
        }
    }

    // MARK: helpers shared by the OIDC controllers

    /// The query of a GET or the form of a POST (a parameter given twice is refused by taking neither).
    static func parameters(_ request: Request) async throws -> [String: String] {
        if request.method == .post {
            let body = try await request.body.collect(upTo: 256 * 1024)
            return URLEncodedForm.decode(String(buffer: body), dropRepeated: true)
        }
        // RFC 6749 §3.1: parameters must not be included more than once; a repeated one counts as absent.
        return URLEncodedForm.decode(request.uri.query ?? "", dropRepeated: true)
    }

    static func redirect(_ uri: String, _ parameters: KeyValuePairs<String, String?>) -> Response {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.compactMap { name, value in value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" } }
        let location = uri + (uri.contains("?") ? "&" : "?") + query.joined(separator: "&")
        return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok, cache: String = "no-store", headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = cache
        if cache == "no-store" { fields[HTTPField.Name("Pragma")!] = "no-cache" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try object.jsonData())))
    }

    static func errorJSON(_ error: OIDCError, headers: HTTPFields = [:]) throws -> Response {
        try json(["error": .string(error.code.rawValue), "error_description": .string(error.detail)],
                 status: HTTPResponse.Status(code: error.httpStatus), headers: headers)
    }

    static func hash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Data(token.utf8))) }
}
