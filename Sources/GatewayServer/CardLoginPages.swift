import CNSValidation
import Foundation
import ItalianIdentity
import GatewayLogin
import GatewayStorage
import LoginOutcome
import OIDC
import SAML

/// The pages of one request: its language, and the link that switches it.
struct CardLoginPages {
    let renderer: PageRenderer
    let lang: PageRenderer.Language
    let path: String
    let query: [String: String]
    let helpURL: String
    /// The name citizens know the login's service by (``GatewayApplication/serviceName(of:lang:)``), when there is a login.
    var service: String?

    private func message(_ key: String, code: String? = nil, values: [String: String] = [:], extra: [String] = [], returnURL: String? = nil) -> String {
        var paragraphs: [[String: Any]] = [["text": renderer.text("\(key).text", lang, values), "error": key != "denied" && key != "loggedOut"]]
        paragraphs += extra.map { ["text": renderer.text($0, lang), "error": false] }
        var context: [String: Any] = ["title": renderer.text("\(key).title", lang), "paragraphs": paragraphs]
        if let code { context["code"] = code }
        if let returnURL {
            context["returnURL"] = returnURL
            context["returnLabel"] = service.map { renderer.text("backToNamedService", lang, ["service": $0]) } ?? renderer.text("backToService", lang)
        }
        return renderer.render("message", lang: lang, path: path, query: query, helpURL: helpURL, values: context)
    }

    /// A SAML request that cannot be answered to any ACS (unknown service, bad signature, unreadable message).
    func samlRefused(_ error: SAMLRequestError) -> String {
        message(Self.refusalKey(spidCode: error.spidCode), code: error.statusMessage + " (" + error.reason + ")", values: ["detail": error.detail])
    }

    /// The SPID error table's courtesy page for a request refused with a page: nr04, nr07 and nr10 "request format not
    /// correct", nr05 "the request's authenticity cannot be established", nr06 "request format not receivable".
    static func refusalKey(spidCode: Int) -> String {
        switch spidCode {
        case 4, 7, 10: "samlRefusedFormat"
        case 5: "samlRefusedSignature"
        case 6: "samlRefusedMethod"
        default: "samlRefused"
        }
    }

    /// An OIDC request that cannot be answered to the client's redirect URI (unknown client, unregistered URI).
    func oidcRefused(_ error: OIDCError) -> String {
        message("oidcRefused", code: error.code.rawValue + " (" + error.reason + ")", values: ["detail": error.detail])
    }

    func loggedOut() -> String { message("loggedOut") }

    /// The database could not be reached: nothing was completed; try again shortly.
    func unavailable() -> String { message("unavailable", code: "storage_unavailable") }

    /// The self-submitting form that carries a SAML message to a service (HTTP-POST binding).
    func postForm(_ message: PostedMessage) -> String {
        PostForm.html(action: message.destination.assertionConsumerServiceURL, parameter: message.parameter, message: message.xml,
                      relayState: message.destination.relayState, title: renderer.text("postForm.title", lang),
                      button: renderer.text("postForm.button", lang), lang: lang.rawValue)
    }

    func noCertificate() -> String { message("noCertificate", code: "no_certificate", extra: ["noCertificate.next"]) }
    func proxyHeaderRefused() -> String { message("proxyRefused", code: "forged_proxy_header") }

    /// A refused card, by the validation's reason (``FailureReason``'s raw value).
    func refused(_ reason: String, returnURL: String? = nil) -> String {
        let key = switch FailureReason(rawValue: reason) {
        case .expired: "expired"
        case .revoked: "revoked"
        case .untrusted: "untrusted"
        case .identity: "identity"
        case .revocationUnknown: "revocationUnknown"
        default: "notCNS"
        }
        return message(key, code: reason, returnURL: returnURL)
    }

    /// `returnURL`: where the front end tells the service how the login ended (a SAML or OIDC error answer).
    func loginFailure(_ failure: LoginFailure, returnURL: String? = nil) -> String {
        switch failure {
        case .certificateRefused(let reason): refused(reason, returnURL: returnURL)
        case .expired where returnURL != nil: message("timedOut", code: "timeout", returnURL: returnURL)
        case .unknownLogin, .expired, .wrongState, .differentCard, .forgedConsent: message("loginInvalid", code: "invalid_request")
        case .levelTooLow(let reached, let requested, _):
            message("levelTooLow", code: "level_too_low", values: ["reached": reached.rawValue, "requested": requested.rawValue], returnURL: returnURL)
        case .denied: message("denied", returnURL: returnURL)
        }
    }

    /// What the service receives for `name` (the shared mapping), as a citizen reads it in `lang`: dates the Italian
    /// way on Italian pages (18/11/1983), the place of birth by name and province (Genova (GE); a foreign state by name).
    static func attributeValue(_ name: String, _ id: AuthenticatedCitizen, lang: PageRenderer.Language) -> String? {
        guard let attribute = CitizenAttribute(rawValue: name), let value = attribute.value(of: id) else { return nil }
        switch attribute {
        case .dateOfBirth: return PageDates.written(id.dateOfBirth, lang: lang)
        case .placeOfBirth:
            guard let place = id.placeOfBirth.name else { return value }
            guard let province = id.placeOfBirth.province, !province.isEmpty, province != "EE" else { return place }
            return "\(place) (\(province))"
        default: return value
        }
    }

    private func rows(_ names: [String], _ id: AuthenticatedCitizen) -> [[String: String]] {
        names.map { ["label": renderer.text("attr.\($0)", lang), "value": Self.attributeValue($0, id, lang: lang) ?? renderer.text("notAvailable", lang)] }
    }

    func recognised(_ decision: CardDecision) -> String {
        guard let id = decision.citizen else { return refused(FailureReason.identity.rawValue) }
        return renderer.render("recognised", lang: lang, path: path, query: query, helpURL: helpURL,
                               values: ["rows": rows(["fiscalNumber", "name", "familyName", "dateOfBirth", "placeOfBirth"], id)])
    }

    /// Exactly what will be released, to whom, with a plain form (no script needed).
    /// Also names a refresh token (`offlineAccess`: the service may come back without the citizen for
    /// `refreshTokenDays`), and says so when nothing but a pseudonymous identifier is released.
    func consent(record: PendingLoginRecord, decision: CardDecision, refreshTokenDays: Int) -> String {
        guard let id = decision.citizen else { return refused(FailureReason.identity.rawValue) }
        let identityAttributes = record.attributes.filter { $0 != Self.offlineAccess }
        var rows = rows(identityAttributes, id)
        if identityAttributes.isEmpty {
            rows.append(["label": renderer.text("attr.pseudonym", lang), "value": renderer.text("pseudonym.value", lang)])
        }
        if record.attributes.contains(Self.offlineAccess) {
            rows.append(["label": renderer.text("attr.offlineAccess", lang),
                         "value": renderer.text("offlineAccess.value", lang).replacingOccurrences(of: "{days}", with: "\(refreshTokenDays)")])
        }
        return renderer.render("consent", lang: lang, path: path, query: query, helpURL: helpURL, values: [
            "requester": service ?? record.requester, "level": decision.level.map { renderer.text("levelInWords.\($0.rawValue)", lang) } ?? "", "rows": rows,
            "loginID": record.id, "token": record.consentToken ?? "", "langQuery": "?lang=\(lang.rawValue)",
        ])
    }

    /// The consent-list entry for a long-lived refresh token (OIDC `offline_access`).
    static let offlineAccess = "offlineAccess"

    func index(cardURL: String) -> String {
        renderer.render("index", lang: lang, path: path, query: query, helpURL: helpURL, values: ["cardURL": cardURL + "?lang=\(lang.rawValue)"])
    }

    func help() -> String { renderer.render("help", lang: lang, path: path, query: query, helpURL: helpURL) }
}
