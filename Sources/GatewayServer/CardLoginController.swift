import CNSValidation
import Crypto
import CodedErrors
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import Hummingbird
import KeyMaterial
import Metrics
import NIOCore

/// The card listener's two steps: the card decision (standalone, or for a pending login of a front end) and the
/// consent. Protocol rules live in `GatewayLogin` and `CNSValidation`; this maps them to pages and audit records.
struct CardLoginController: Sendable {
    let application: GatewayApplication
    var audit: AuditLog { application.audit }
    var flow: LoginFlow { LoginFlow(storage: application.storage) }

    enum ChainOutcome {
        case chain([[UInt8]], via: String)
        case refused(Response)
    }

    /// The presented chain: from the TLS handshake, or from a trusted proxy's one configured header; or the page
    /// that refuses the request. A certificate header from anyone else, or any other certificate header from a
    /// trusted proxy (a client's own header the proxy passed through), refuses the request.
    func cardChain(_ request: Request, _ context: CardRequestContext, pages: CardLoginPages) async throws -> ChainOutcome {
        let origin = context.origin
        let present = ProxyCertificateHeader.present(in: request.headers)
        guard let proxy = origin.proxy else {
            guard present.isEmpty else {
                application.logger.warning("forwarded certificate header from an address that is not a trusted proxy", metadata: ["client": "\(origin.address)"])
                try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "forged_proxy_header",
                                                                                          "headers": present.map(\.rawName).joined(separator: ",")]))
                return .refused(application.html(pages.proxyHeaderRefused(), status: .forbidden))
            }
            return .chain(await context.presentedChain(), via: "tls")
        }
        let format = application.configuration.proxies.certificateHeader
        let unexpected = ProxyCertificateHeader.unexpected(in: request.headers, format: format)
        guard unexpected.isEmpty else {
            application.logger.warning("certificate header the trusted proxy does not set", metadata: ["client": "\(origin.address)", "proxy": "\(proxy)"])
            try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "unexpected_proxy_header",
                                                                                      "headers": unexpected.map(\.rawName).joined(separator: ",")]))
            return .refused(application.html(pages.proxyHeaderRefused(), status: .forbidden))
        }
        do { return .chain(try ProxyCertificateHeader.chain(from: request.headers, format: format), via: "proxy") } catch {
            try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "malformed", "detail": "\(error)"]))
            return .refused(application.html(pages.refused(.malformed), status: .forbidden))
        }
    }

    /// The codice fiscale as the audit log keeps it: the code, or its keyed hash when the admin configured one.
    func auditedCodiceFiscale(_ code: String) -> String {
        guard let key = application.configuration.auditPseudonymKey else { return code }
        return "hmac-sha256:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(code.utf8), using: SymmetricKey(data: key)))
    }

    static func fingerprint(_ der: [UInt8]) -> String { Hex.encode(SHA256.hash(data: der)) }

    func card(_ request: Request, _ context: CardRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let client = context.origin.address
        let loginID = request.uri.queryParameters.get("login")
        var pending: PendingLoginRecord?
        if let loginID {
            switch try await flow.pending(loginID) {
            case .failure(let failure): return try await refuse(failure, loginID: loginID, pages: pages, client: client)
            case .success(let record): pending = record
            }
        }
        let chain: [[UInt8]], via: String
        switch try await cardChain(request, context, pages: pages) {
        case .refused(let page): return page
        case .chain(let c, let v): (chain, via) = (c, v)
        }
        if let pending, pending.forceFresh, via == "tls", let handshake = await context.handshakeCompletedAt(), handshake < pending.createdAt {
            // The browser kept a connection from before this login started: a fresh login needs the card to sign a
            // new handshake, so send it back to the same address on a new connection.
            try await audit.append(kind: "login", fields: ["result": "reconnect", "reason": "force_fresh", "login": pending.id, "client": client])
            return Response(status: .seeOther, headers: [.location: application.configuration.cardURL + request.uri.description, .connection: "close",
                                                         .cacheControl: "no-store"])
        }
        let sessionCookie = request.cookies[application.configuration.sessions.cookieName]?.value
        if let pending, let leafDER = chain.first, let sessionCookie {
            if let resumed = try await flow.resumeFromSession(pending.id, cookieValue: sessionCookie, presentedFingerprint: Self.fingerprint(leafDER),
                                                              policy: application.configuration.sessions),
               let outcome = LoginFlow.outcome(of: resumed) {
                Counter(label: "cnsgw_logins_total", dimensions: [("result", "session"), ("reason", "none"), ("level", outcome.report.level?.rawValue ?? "none")]).increment()
                try await audit.append(kind: "login", fields: ["result": "session", "login": pending.id, "requester": pending.requester, "client": client,
                                                               "session": outcome.sessionID ?? "",
                                                               "codiceFiscale": outcome.report.identity.map { auditedCodiceFiscale($0.codiceFiscale) } ?? ""])
                return application.html(consentPage(pages, record: resumed, report: outcome.report), status: .ok)
            }
            if let session = try await application.storage.session(id: LoginFlow.sessionID(cookieValue: sessionCookie)),
               session.certificateFingerprint != Self.fingerprint(leafDER) {
                // Another card with this browser's session: the card that opened it was removed, so the session ends.
                try await flow.endSession(cookieValue: sessionCookie)
                try await audit.append(kind: "login", fields: ["result": "session_ended", "reason": "different_card", "session": session.id, "client": client])
            }
        }
        guard let leafDER = chain.first else {
            try await audit.append(kind: "login", fields: ["result": "refused", "reason": "no_certificate", "client": client, "login": loginID ?? ""])
            return application.html(pages.noCertificate(), status: .unauthorized)
        }
        let report: VerificationReport
        do {
            let leaf = try application.certificates.certificate(leafDER)
            let intermediates = chain.dropFirst().compactMap { try? application.certificates.certificate($0) }
            let verifier = CNSVerifier(trustStore: try await application.trust.trustStore(), revocation: application.revocation,
                                       identityMapper: application.identityMapper, logger: application.logger)
            let started = DispatchTime.now().uptimeNanoseconds
            report = await verifier.verify(leaf: leaf, intermediates: intermediates, at: Date())
            Timer(label: "cnsgw_card_validation_duration_seconds").recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            Counter(label: "cnsgw_logins_total", dimensions: [("result", report.valid ? "valid" : "refused"),
                                                               ("reason", report.reason?.rawValue ?? "none"),
                                                               ("level", report.level?.rawValue ?? "none")]).increment()
            var fields: [String: String] = ["result": report.valid ? "valid" : "refused", "serial": leaf.serialHex, "issuer": leaf.issuer]
            fields["reason"] = report.reason?.rawValue ?? ""
            fields["codiceFiscale"] = report.identity.map { auditedCodiceFiscale($0.codiceFiscale) } ?? ""
            fields["level"] = report.level?.rawValue ?? ""
            fields["revocation"] = report.revocation.map { "\($0.method.rawValue)/\($0.status.rawValue)" } ?? ""
            fields["client"] = client
            if let proxy = context.origin.proxy { fields["proxy"] = proxy }
            fields["via"] = via
            fields["login"] = loginID ?? ""
            fields["requester"] = pending?.requester ?? ""
            try await audit.append(kind: "login", fields: fields)
        } catch let error as CertificateLoadError {
            try await audit.append(kind: "login", fields: ["result": "refused", "reason": "malformed", "detail": error.detail, "client": client])
            return application.html(pages.refused(.malformed), status: .forbidden)
        }
        guard let pending else {
            guard report.valid else { return application.html(pages.refused(report.reason ?? .untrusted), status: .forbidden) }
            return application.html(pages.recognised(report), status: .ok)
        }
        switch try await flow.recordCard(pending.id, report: report, certificateFingerprint: Self.fingerprint(leafDER)) {
        case .failure(let failure): return try await refuse(failure, loginID: pending.id, pages: pages, client: client)
        case .success(let record): return application.html(consentPage(pages, record: record, report: report), status: .ok)
        }
    }

    func consentPage(_ pages: CardLoginPages, record: PendingLoginRecord, report: VerificationReport) -> String {
        pages.consent(record: record, report: report, refreshTokenDays: Int(application.configuration.oidcRefreshTokenLifetime / 86_400))
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
            return application.html(pages.refused(.malformed), status: .badRequest)
        }
        guard isSameOrigin(request) else {
            try await audit.append(kind: "login", fields: context.origin.auditFields(
                ["result": "refused", "reason": "cross_site_consent", "login": loginID, "origin": request.headers[.origin] ?? "",
                 "site": request.headers[.secFetchSite] ?? ""]))
            return application.html(pages.loginFailure(.forgedConsent), status: LoginRefusal.status)
        }
        let token = form["token"] ?? ""
        let chain: [[UInt8]]
        switch try await cardChain(request, context, pages: pages) {
        case .refused(let page): return page
        case .chain(let c, _): chain = c
        }
        let result = try await flow.consent(loginID, approve: decision == "approve", certificateFingerprint: chain.first.map(Self.fingerprint) ?? "",
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
            if LoginFlow.outcome(of: record)?.sessionID == nil, let opened = try await flow.openSession(after: record, policy: policy) {
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
        let separator = record.returnPath.contains("?") ? "&" : "?"
        return application.configuration.publicURL + record.returnPath + separator + "login=" + record.id + "&continuation=" + secret
    }

    func refuse(_ failure: LoginFailure, loginID: String, pages: CardLoginPages, client: String) async throws -> Response {
        // An unknown, expired, finished or foreign login, another card or a forged form: one page and one status, so
        // a request cannot tell which step a login is at (the audit record keeps the reason).
        let (reason, status): (String, HTTPResponse.Status) = switch failure {
        case .unknownLogin, .expired: ("session_expired", LoginRefusal.status)
        case .wrongState: ("wrong_state", LoginRefusal.status)
        case .certificateRefused(let r): (r.rawValue, .forbidden)
        case .levelTooLow: ("level_too_low", .forbidden)
        case .differentCard: ("different_card", LoginRefusal.status)
        case .forgedConsent: ("forged_consent", LoginRefusal.status)
        case .denied: ("denied", .ok)
        }
        try await audit.append(kind: "login", fields: ["result": "refused", "reason": reason, "login": loginID, "client": client])
        // A login that ended (refused card, level too low, denied) goes back to its front end, which answers the service.
        var returnURL: String?
        switch failure {
        case .certificateRefused, .levelTooLow, .denied:
            if let record = try await application.storage.pendingLogin(id: loginID), record.state == .failed {
                returnURL = try await self.returnURL(record)
            }
        default: break
        }
        return application.html(pages.loginFailure(failure, returnURL: returnURL), status: status)
    }
}

/// How a request about a login it is not bound to is refused, whatever the login's state.
enum LoginRefusal {
    static let status: HTTPResponse.Status = .badRequest
}
