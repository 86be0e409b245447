import CNSValidation
import Crypto
import CodedErrors
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import HexEncoding
import LoginOutcome
import Hummingbird
import KeyMaterial
import Metrics
import NIOCore

/// The card listener's first step: the card decision (standalone, or for a pending login of a front end). The rules
/// live in `GatewayLogin` and `CNSValidation`; this maps them to pages and audit records.
struct CardLoginController: Sendable {
    let application: GatewayApplication
    var audit: AuditLog { application.audit }
    var flow: LoginFlow { LoginFlow(storage: application.storage, awaitingCard: application.loginsAwaitingCard) }
    var consentSteps: ConsentController { ConsentController(application: application) }

    /// The codice fiscale as the audit log keeps it: the code, or its keyed hash when the admin configured one.
    func auditedCodiceFiscale(_ code: String) -> String {
        guard let key = application.configuration.auditPseudonymKey else { return code }
        return "hmac-sha256:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(code.utf8), using: SymmetricKey(data: key)))
    }

    static func fingerprint(_ der: [UInt8]) -> String { Hex.encode(SHA256.hash(data: der)) }

    /// The card step: the presented card is decided (or a single-sign-on session continues the login) and the
    /// citizen sees the consent page, or why not.
    func card(_ request: Request, _ context: CardRequestContext) async throws -> Response {
        let pages = application.pages(for: request)
        let client = context.origin.address
        let loginID = request.uri.queryParameters.get("login")
        var pending: PendingLoginRecord?
        if let loginID {
            switch try await flow.pendingForCard(loginID) {
            case .failure(let failure): return try await consentSteps.refuse(failure, loginID: loginID, pages: pages, client: client)
            case .success(let record): pending = record
            }
        }
        let chain: [[UInt8]], via: String
        switch try await PresentedCardChain(application: application).read(request, context, pages: pages) {
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
        guard let leafDER = chain.first else {
            try await audit.append(kind: "login", fields: ["result": "refused", "reason": "no_certificate", "client": client, "login": loginID ?? ""])
            return application.html(pages.noCertificate(), status: .unauthorized)
        }
        if let pending, let resumed = try await resumeSession(request, pending: pending, leafDER: leafDER, client: client) {
            return application.html(await consentSteps.page(pages, record: resumed), status: .ok)
        }
        let decision: CardDecision, auditFields: [String: String]
        switch try await decide(chain, pending: pending, via: via, context: context) {
        case .decided(let d, let fields): (decision, auditFields) = (d, fields)
        case .malformed: return application.html(pages.refused(FailureReason.malformed.rawValue), status: .forbidden)
        }
        guard let pending else {
            try await audit.append(kind: "login", fields: auditFields)
            guard let refusal = decision.refusal else { return application.html(pages.recognised(decision), status: .ok) }
            return application.html(pages.refused(refusal), status: .forbidden)
        }
        // The decision's audit record and the login's update are issued together: on SQLite they share one transaction
        // (SQLiteGroupCommit), elsewhere two writes run at once; the page that lets the login go on is shown only after
        // both are stored.
        async let audited = audit.append(kind: "login", fields: auditFields)
        let recorded = try await flow.recordCard(pending, decision: decision)
        _ = try await audited
        switch recorded {
        case .failure(let failure): return try await consentSteps.refuse(failure, loginID: pending.id, pages: pages, client: client)
        case .success(let record): return application.html(await consentSteps.page(pages, record: record), status: .ok)
        }
    }

    /// Continues `pending` from this browser's single-sign-on session when everything allows it; a session cookie that
    /// comes with another card ends that session.
    func resumeSession(_ request: Request, pending: PendingLoginRecord, leafDER: [UInt8], client: String) async throws -> PendingLoginRecord? {
        guard let cookie = request.cookies[application.configuration.sessions.cookieName]?.value else { return nil }
        let fingerprint = Self.fingerprint(leafDER)
        if let resumed = try await flow.resumeFromSession(pending.id, cookieValue: cookie, presentedFingerprint: fingerprint, policy: application.configuration.sessions),
           let decision = LoginFlow.decision(of: resumed) {
            Counter(label: "cnsgw_logins_total", dimensions: [("result", "session"), ("reason", "none"), ("level", decision.level?.rawValue ?? "none")]).increment()
            try await audit.append(kind: "login", fields: ["result": "session", "login": pending.id, "requester": pending.requester, "client": client,
                                                           "session": decision.sessionID ?? "",
                                                           "codiceFiscale": decision.citizen.map { auditedCodiceFiscale($0.codiceFiscale) } ?? ""])
            return resumed
        }
        if let session = try await application.storage.session(id: LoginFlow.sessionID(cookieValue: cookie)), session.certificateFingerprint != fingerprint {
            // Another card with this browser's session: the card that opened it was removed, so the session ends.
            try await flow.endSession(cookieValue: cookie)
            try await audit.append(kind: "login", fields: ["result": "session_ended", "reason": "different_card", "session": session.id, "client": client])
        }
        return nil
    }

    enum Decided {
        /// The decision and its audit record's fields, which the caller appends.
        case decided(CardDecision, audit: [String: String])
        case malformed
    }

    /// The CNS decision for a presented chain (RFC 5280 path, revocation, profile, identity), counted; a malformed
    /// certificate is audited here, a decision by the caller (with the login's update).
    func decide(_ chain: [[UInt8]], pending: PendingLoginRecord?, via: String, context: CardRequestContext) async throws -> Decided {
        let client = context.origin.address
        let leaf: X509Certificate
        do { leaf = try application.certificates.certificate(chain[0]) } catch let error as CertificateLoadError {
            try await audit.append(kind: "login", fields: ["result": "refused", "reason": "malformed", "detail": error.detail, "client": client])
            return .malformed
        }
        let intermediates = chain.dropFirst().compactMap { try? application.certificates.certificate($0) }
        let verifier = CNSVerifier(trustStore: try await application.trust.trustStore(), revocation: application.revocation,
                                   identityMapper: application.identityMapper, logger: application.logger)
        let started = DispatchTime.now().uptimeNanoseconds
        let report = await verifier.verify(leaf: leaf, intermediates: intermediates, at: Date())
        Timer(label: "cnsgw_card_validation_duration_seconds").recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        Counter(label: "cnsgw_logins_total", dimensions: [("result", report.valid ? "valid" : "refused"), ("reason", report.reason?.rawValue ?? "none"),
                                                           ("level", report.level?.rawValue ?? "none")]).increment()
        Counter(label: "cnsgw_certificate_decisions_total", dimensions: [("result", report.valid ? "valid" : "invalid"),
                                                                           ("reason", report.reason?.rawValue ?? "none")]).increment()
        for kind in report.legacyCrypto { Counter(label: "cnsgw_legacy_crypto_certificates_total", dimensions: [("kind", kind)]).increment() }
        var fields: [String: String] = ["result": report.valid ? "valid" : "refused", "serial": leaf.serialHex, "issuer": leaf.issuer,
                                        "reason": report.reason?.rawValue ?? "", "level": report.level?.rawValue ?? "",
                                        "codiceFiscale": report.identity.map { auditedCodiceFiscale($0.codiceFiscale) } ?? "",
                                        "revocation": report.revocation.map { "\($0.method.rawValue)/\($0.status.rawValue)" } ?? "",
                                        "client": client, "via": via, "login": pending?.id ?? "", "requester": pending?.requester ?? ""]
        if let proxy = context.origin.proxy { fields["proxy"] = proxy }
        return .decided(CardDecision(certificateFingerprint: Self.fingerprint(chain[0]), decidedAt: report.validationTime,
                                     refusal: report.valid ? nil : (report.reason ?? .untrusted).rawValue, level: report.level, citizen: report.identity),
                        audit: fields)
    }
}
