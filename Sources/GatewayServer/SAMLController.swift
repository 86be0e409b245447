import Foundation
import GatewayLogin
import Hummingbird
import LoginOutcome
import Metrics
import NIOCore
import RequestDecoding
import SAML

/// The SAML front end over HTTP: metadata, single sign-on (HTTP-Redirect and HTTP-POST), the continuation after the
/// card step, and single logout. Each handler reads the request, calls one ``IdentityProviderEngine`` entry point
/// and writes its answer; refusals without a service to answer are pages, audited at a bounded rate.
struct SAMLController: Sendable {
    let engine: IdentityProviderEngine
    let application: GatewayApplication

    func metadata(_ request: Request) async throws -> Response {
        let idp = engine.idp
        let xml = try await application.samlKeys.metadata(now: Date()) { key, certificates, now in
            try IdentityProviderMetadata.build(idp, certificatesPEM: certificates, signingKey: key, now: now)
        }
        return Response(status: .ok, headers: [.contentType: "application/samlmetadata+xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    func singleSignOn(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        var binding: Cookie?
        let answer: SAMLAnswer
        do {
            answer = try await engine.singleSignOn(try await Self.incoming(request), auditFields: ["client": context.clientAddress], now: Date()) { start in
                try await application.startBoundLogin(start, returnPath: "/saml/continue", cookie: &binding)
            }
        } catch let error as SAMLRequestError {
            answer = .refused(error)
        }
        // No service provider stands behind a page refusal: audited at a bounded rate.
        return try await write(answer, binding: binding, request: request, audit: application.refusals.append)
    }

    /// After the card listener: the Response for the login (success, or the SPID error for how it ended).
    func continueLogin(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        guard let record = try await application.boundLogin(request) else {
            return try await application.refuseContinuation(request, kind: "saml", context: context.origin)
        }
        let result = try await LoginFlow(storage: application.storage).result(of: record)
        switch try await engine.finishLogin(record.id, result: result, auditFields: ["client": context.clientAddress], now: Date()) {
        case .continuationReplayed:
            return application.html(pages.loginFailure(.wrongState(record.state)), status: LoginRefusal.status)
        case .serviceProviderRemoved:
            return application.html(pages.loginFailure(.unknownLogin), status: .notFound)
        case .response(let message, let outcome):
            Counter(label: "cnsgw_saml_responses_total", dimensions: [("result", outcome)]).increment()
            var response = application.html(pages.postForm(message), status: .ok)
            GatewayApplication.clearBinding(&response, loginID: record.id, path: record.returnPath)
            return response
        }
    }

    /// A service provider's LogoutRequest, or its LogoutResponse to a LogoutRequest the gateway sent.
    func singleLogout(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let answer: SAMLAnswer
        do {
            answer = try await engine.singleLogout(try await Self.incoming(request), auditFields: ["client": context.clientAddress], now: Date())
        } catch let error as SAMLRequestError {
            answer = .refused(error)
        }
        let audit = application.audit
        return try await write(answer, binding: nil, request: request) { kind, fields in
            _ = try await audit.append(kind: kind, fields: fields.merging(["result": "logout_refused"]) { _, own in own })
        }
    }

    /// Writes an answer: to the card step (with the login's binding cookie), a message posted to a service, or a page
    /// for a refusal with no service to answer (audited through `audit`).
    func write(_ answer: SAMLAnswer, binding: Cookie?, request: Request, audit: (String, [String: String]) async throws -> Void) async throws -> Response {
        let pages = application.pages(for: request)
        switch answer {
        case .loginStarted(let loginID):
            var response = Response(status: .seeOther, headers: [.location: application.configuration.cardURL + "/login/card?login=" + loginID,
                                                                 .cacheControl: "no-store"])
            if let binding { response.setCookie(binding) }
            return response
        case .post(let message, let refused):
            if let refused { count(refused) }
            return application.html(pages.postForm(message), status: .ok)
        case .refused(let error):
            return try await refusalPage(error, pages: pages, audit: audit)
        }
    }

    func count(_ error: SAMLRequestError) {
        Counter(label: "cnsgw_saml_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
    }

    /// A refusal with no service to answer: audited through `audit`, logged, and a page for the citizen.
    func refusalPage(_ error: SAMLRequestError, pages: CardLoginPages, audit: (String, [String: String]) async throws -> Void) async throws -> Response {
        count(error)
        try await audit("saml", ["result": "refused", "reason": error.reason, "errorCode": error.statusMessage, "detail": error.detail])
        application.logger.warning("SAML request refused", metadata: ["reason": "\(error.reason)", "detail": "\(error.detail)"])
        return application.html(pages.samlRefused(error), status: .forbidden)
    }

    /// The SAML message of a request, by its binding: HTTP-POST form or HTTP-Redirect query.
    static func incoming(_ request: Request) async throws -> IncomingMessage {
        if request.method == .post {
            let body = try await request.body.collect(upTo: IncomingMessage.maximumEncodedSize * 2 + 4096)
            let fields = URLEncodedForm.decode(String(buffer: body))
            let isResponse = fields["SAMLResponse"] != nil || (fields["SAMLRequest"] == nil && (request.uri.query ?? "").contains("SAMLResponse="))
            return try IncomingMessage.post(form: fields, parameter: isResponse ? "SAMLResponse" : "SAMLRequest", rawQuery: request.uri.query ?? "")
        }
        let query = request.uri.query ?? ""
        let isResponse = query.hasPrefix("SAMLResponse=") || query.contains("&SAMLResponse=")
        return try IncomingMessage.redirect(rawQuery: query, parameter: isResponse ? "SAMLResponse" : "SAMLRequest")
    }
}
