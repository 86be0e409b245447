import CNSValidation
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import Hummingbird
import LoginOutcome
import NIOCore
import RequestDecoding

/// The card listener's second step: the consent page and the citizen's answer, over a connection presenting the card
/// that was checked; then back to the front end with a continuation secret. A refusal of either step tells the
/// requester only what the citizen needs (the audit record keeps the reason).
struct ConsentController: Sendable {
    let application: GatewayApplication
    var audit: AuditLog { application.audit }
    var flow: LoginFlow { LoginFlow(storage: application.storage) }

    /// The consent page for a login whose card was accepted.
    func page(_ pages: CardLoginPages, record: PendingLoginRecord) async -> String {
        let pages = await application.pages(pages, naming: record)
        guard let decision = LoginFlow.decision(of: record) else { return pages.refused(FailureReason.identity.rawValue) }
        return pages.consent(record: record, decision: decision, refreshTokenDays: Int(application.configuration.oidcRefreshTokenLifetime / 86_400))
    }

    /// Whether a consent POST comes from the gateway's own consent page: browsers send `Sec-Fetch-Site` and `Origin`
    /// on every POST, so a form posted from another site (carrying the card like a cookie) is told apart. A client
    /// that sends neither (curl) still needs the form's token, which only the consent page carries. Under
    /// `Referrer-Policy: no-referrer` browsers send `Origin: null` even for a same-origin form, so `Sec-Fetch-Site`
    /// decides when present.
    func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite] { return site == "same-origin" }
        if let origin = request.headers[.origin] {
            guard let url = URL(string: application.configuration.cardURL), let scheme = url.scheme, let host = url.host else { return false }
            let expected = scheme + "://" + host + (url.port.map { ":\($0)" } ?? "")
            return origin.lowercased() == expected.lowercased()
        }
        return true
    }

    func consent(_ request: Request, _ context: CardRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let client = context.origin.address
        let body = try await request.body.collect(upTo: 4096)
        // A field given twice (a form tampered with) counts as absent.
        let form = URLEncodedForm.decode(String(buffer: body), dropRepeated: true)
        guard let loginID = form["login"], let decision = form["decision"], decision == "approve" || decision == "deny" else {
            return application.html(pages.refused(FailureReason.malformed.rawValue), status: .badRequest)
        }
        guard isSameOrigin(request) else {
            try await audit.append(kind: "login", fields: context.origin.auditFields(
                ["result": "refused", "reason": "cross_site_consent", "login": loginID, "origin": request.headers[.origin] ?? "",
                 "site": request.headers[.secFetchSite] ?? ""]))
            return application.html(pages.loginFailure(.forgedConsent), status: LoginRefusal.status)
        }
        let token = form["token"] ?? ""
        let chain: [[UInt8]]
        switch try await PresentedCardChain(application: application).read(request, context, pages: pages) {
        case .refused(let page): return page
        case .chain(let c, _): chain = c
        }
        let result = try await flow.consent(loginID, approve: decision == "approve", certificateFingerprint: chain.first.map(CardLoginController.fingerprint) ?? "",
                                            token: token)
        switch result {
        case .failure(let failure): return try await refuse(failure, loginID: loginID, pages: pages, client: client)
        case .success(let record):
            try await audit.append(kind: "login", fields: ["result": "consented", "login": record.id, "requester": record.requester, "client": client])
            guard let target = try await returnURL(record) else {
                return application.html(pages.loginFailure(.wrongState(.completed)), status: LoginRefusal.status)
            }
            var response = Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
            let policy = application.configuration.sessions
            if record.card?.sessionID == nil, let opened = try await flow.openSession(after: record, policy: policy) {
                // Secure, HttpOnly, Lax (sent on the top-level redirect from a provider's site, never on its sub-requests),
                // scoped to the login paths of the card listener.
                response.setCookie(Cookie(name: policy.cookieName, value: opened.cookieValue, maxAge: Int(policy.lifetime), path: "/login",
                                          secure: true, httpOnly: true, sameSite: .lax))
                try await audit.append(kind: "login", fields: ["result": "session_opened", "login": record.id, "session": opened.record.id,
                                                               "level": opened.record.level, "client": client])
            }
            return response
        }
    }

    /// Where the browser goes back to the front end for an ended login: its continuation path with the login ID and
    /// a continuation secret issued now, once (nil when one was already issued).
    func returnURL(_ record: PendingLoginRecord) async throws -> String? {
        guard let secret = try await flow.issueContinuation(record.id) else { return nil }
        return continuationURL(record, secret: secret)
    }

    /// The front end's continuation address for `record`, with the continuation secret when the login has ended (a
    /// login still awaiting its card step is continued with the binding cookie alone).
    func continuationURL(_ record: PendingLoginRecord, secret: String?) -> String {
        let separator = record.returnPath.contains("?") ? "&" : "?"
        return application.configuration.publicURL + record.returnPath + separator + "login=" + record.id + (secret.map { "&continuation=" + $0 } ?? "")
    }

    func refuse(_ failure: LoginFailure, loginID: String, pages: CardLoginPages, client: String) async throws -> Response {
        // An unknown, expired, finished or foreign login, another card or a forged form: one status, so a request cannot
        // tell which step a login is at (the audit record keeps the reason). Only a login that timed out before its
        // card step finished gets its own page, whose button is of use only to the browser that started it.
        let (reason, status): (String, HTTPResponse.Status) = switch failure {
        case .unknownLogin, .expired: ("session_expired", LoginRefusal.status)
        case .wrongState: ("wrong_state", LoginRefusal.status)
        case .certificateRefused(let r): (r, .forbidden)
        case .levelTooLow: ("level_too_low", .forbidden)
        case .differentCard: ("different_card", LoginRefusal.status)
        case .forgedConsent: ("forged_consent", LoginRefusal.status)
        case .denied: ("denied", .ok)
        }
        try await audit.append(kind: "login", fields: ["result": "refused", "reason": reason, "login": loginID, "client": client])
        guard let (record, returnURL) = try await continuation(after: failure, loginID: loginID) else {
            return application.html(pages.loginFailure(failure), status: status)
        }
        return application.html(await application.pages(pages, naming: record).loginFailure(failure, returnURL: returnURL), status: status)
    }

    /// Where a refused login goes back to its front end, which answers the service: one that ended (refused card, level
    /// too low, denied) with a continuation secret; one past its time before the card step finished without, since only
    /// the browser holding its binding cookie gets anywhere with the link (its service is told it timed out, nr21).
    /// The address is nil when the ended login's secret was issued already; the whole answer is nil for every other refusal.
    func continuation(after failure: LoginFailure, loginID: String) async throws -> (PendingLoginRecord, String?)? {
        let ended: Bool
        switch failure {
        case .certificateRefused, .levelTooLow, .denied: ended = true
        case .expired: ended = false
        default: return nil
        }
        guard let record = try await application.storage.pendingLogin(id: loginID) else { return nil }
        switch record.state {
        case .failed where ended: return (record, try await returnURL(record))
        case .awaitingCard where !ended, .awaitingConsent where !ended: return (record, continuationURL(record, secret: nil))
        default: return nil
        }
    }
}

/// How a request about a login it is not bound to is refused, whatever the login's state.
enum LoginRefusal {
    static let status: HTTPResponse.Status = .badRequest
}
