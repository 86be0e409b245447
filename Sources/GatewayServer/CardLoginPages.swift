import CNSValidation
import Foundation
import GatewayLogin
import GatewayStorage

/// The pages of the card listener, in Italian or English. Plain, accessible HTML with no script and no external
/// resource; the full page set (consent, help, every failure) moves to `Templates/` with the login flow.
enum CardLoginPages {
    enum Language: String { case it, en }

    static func language(acceptLanguage: String?) -> Language {
        guard let header = acceptLanguage?.lowercased() else { return .it }
        let first = header.split(separator: ",").first?.trimmingCharacters(in: .whitespaces) ?? ""
        return first.hasPrefix("en") ? .en : .it
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func page(_ lang: Language, title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="\(lang.rawValue)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>body{font-family:"Titillium Web",Arial,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
        h1{color:#06c;font-size:1.6rem}dt{font-weight:600}dd{margin:0 0 .5rem 0}.err{border-left:4px solid #d9364f;padding-left:1rem}</style>
        </head><body><main>
        <h1>\(escape(title))</h1>
        \(body)
        </main></body></html>
        """
    }

    static func noCertificate(_ lang: Language) -> String {
        lang == .it
            ? page(lang, title: "Nessun certificato presentato", body: """
                <p class="err">Il browser non ha inviato il certificato della Tessera Sanitaria – CNS.</p>
                <p>Inserisci la carta nel lettore, verifica che il software della carta sia installato e riprova; quando il browser lo chiede, scegli il certificato e inserisci il PIN.</p>
                """)
            : page(lang, title: "No certificate presented", body: """
                <p class="err">Your browser did not send the certificate of your Tessera Sanitaria – CNS card.</p>
                <p>Insert the card in the reader, check that the card software is installed and try again; when the browser asks, choose the certificate and enter your PIN.</p>
                """)
    }

    static func proxyHeaderRefused(_ lang: Language) -> String {
        lang == .it
            ? page(lang, title: "Richiesta non accettata", body: "<p class=\"err\">La richiesta contiene un certificato inoltrato da un indirizzo non autorizzato.</p><p>Accedi direttamente dalla pagina del servizio.</p>")
            : page(lang, title: "Request refused", body: "<p class=\"err\">The request carries a forwarded certificate from an address that is not an authorised proxy.</p><p>Log in directly from the service's page.</p>")
    }

    static func refused(_ lang: Language, reason: FailureReason) -> String {
        let (titleIT, textIT, titleEN, textEN): (String, String, String, String) = switch reason {
        case .expired: ("Carta scaduta", "Il certificato della carta è scaduto. Richiedi una nuova tessera all'Agenzia delle Entrate.",
                        "Expired card", "The card's certificate has expired. Ask the Agenzia delle Entrate for a new card.")
        case .revoked: ("Carta revocata o sospesa", "Il certificato della carta è stato revocato o sospeso. Se hai perso la carta o ti è stata rubata, chiedi un duplicato all'Agenzia delle Entrate.",
                        "Card revoked or suspended", "The card's certificate has been revoked or suspended. If the card was lost or stolen, ask the Agenzia delle Entrate for a duplicate.")
        case .untrusted: ("Emittente non riconosciuto", "Il certificato non è stato emesso da un'autorità accettata da questo servizio.",
                          "Unknown issuer", "The certificate was not issued by an authority this service accepts.")
        case .identity: ("Codice fiscale non leggibile", "Il certificato non contiene un codice fiscale valido.",
                         "Unreadable codice fiscale", "The certificate does not carry a valid codice fiscale.")
        case .revocationUnknown: ("Verifica non disponibile", "Non è stato possibile verificare ora lo stato della carta. Riprova tra qualche minuto.",
                                  "Check unavailable", "The card's status cannot be checked right now. Please try again in a few minutes.")
        default: ("Certificato non CNS", "Il certificato presentato non è un certificato di autenticazione CNS valido.",
                  "Not a CNS certificate", "The certificate presented is not a valid CNS authentication certificate.")
        }
        return lang == .it
            ? page(lang, title: titleIT, body: "<p class=\"err\">\(escape(textIT))</p><p>Codice: <code>\(reason.rawValue)</code></p>")
            : page(lang, title: titleEN, body: "<p class=\"err\">\(escape(textEN))</p><p>Code: <code>\(reason.rawValue)</code></p>")
    }

    static func recognised(_ lang: Language, _ report: VerificationReport) -> String {
        guard let id = report.identity else { return refused(lang, reason: .identity) }
        let name = [id.name, id.familyName].compactMap { $0 }.joined(separator: " ")
        let rows = [(lang == .it ? "Codice fiscale" : "Codice fiscale", id.codiceFiscale), (lang == .it ? "Nome" : "Name", name),
                    (lang == .it ? "Data di nascita" : "Date of birth", id.dateOfBirth),
                    (lang == .it ? "Livello" : "Level", report.level?.rawValue ?? "")]
        let list = rows.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>" }.joined()
        return page(lang, title: lang == .it ? "Carta riconosciuta" : "Card recognised", body: "<dl>\(list)</dl>")
    }

    static let attributeLabels: [String: (it: String, en: String)] = [
        "fiscalNumber": ("Codice fiscale", "Fiscal number"), "name": ("Nome", "Given name"), "familyName": ("Cognome", "Family name"),
        "dateOfBirth": ("Data di nascita", "Date of birth"), "gender": ("Sesso", "Sex"), "placeOfBirth": ("Luogo di nascita", "Place of birth"),
        "countyOfBirth": ("Provincia di nascita", "Province of birth"),
    ]

    static func attributeValue(_ name: String, _ id: VerificationReport.Identity) -> String? {
        switch name {
        case "fiscalNumber": id.fiscalNumber
        case "name": id.name
        case "familyName": id.familyName
        case "dateOfBirth": id.dateOfBirth
        case "gender": id.gender
        case "placeOfBirth": [id.placeOfBirth.name, id.placeOfBirth.code].compactMap { $0 }.joined(separator: " – ")
        case "countyOfBirth": id.placeOfBirth.province
        default: nil
        }
    }

    /// The consent page: exactly what will be released, to whom, with a plain form (no script needed).
    static func consent(_ lang: Language, record: PendingLoginRecord, report: VerificationReport) -> String {
        guard let id = report.identity else { return refused(lang, reason: .identity) }
        let rows = record.attributes.map { name -> String in
            let label = attributeLabels[name].map { lang == .it ? $0.it : $0.en } ?? name
            return "<dt>\(escape(label))</dt><dd>\(escape(attributeValue(name, id) ?? (lang == .it ? "non disponibile" : "not available")))</dd>"
        }.joined()
        let intro = lang == .it
            ? "<p>Il servizio <strong>\(escape(record.requester))</strong> riceverà questi dati, con livello \(escape(report.level?.rawValue ?? "")):</p>"
            : "<p>The service <strong>\(escape(record.requester))</strong> will receive these data, at level \(escape(report.level?.rawValue ?? "")):</p>"
        let form = """
            <form method="post" action="/login/consent">
            <input type="hidden" name="login" value="\(escape(record.id))">
            <button type="submit" name="decision" value="approve">\(lang == .it ? "Acconsento" : "I agree")</button>
            <button type="submit" name="decision" value="deny">\(lang == .it ? "Annulla" : "Cancel")</button>
            </form>
            """
        return page(lang, title: lang == .it ? "Conferma i dati da inviare" : "Confirm the data to send", body: intro + "<dl>\(rows)</dl>" + form)
    }

    static func loginFailure(_ lang: Language, _ failure: LoginFailure) -> String {
        switch failure {
        case .certificateRefused(let reason): return refused(lang, reason: reason)
        case .unknownLogin, .expired:
            return lang == .it
                ? page(lang, title: "Sessione scaduta", body: "<p class=\"err\">La richiesta di accesso non è più valida.</p><p>Torna al servizio e ripeti l'accesso.</p>")
                : page(lang, title: "Session expired", body: "<p class=\"err\">The login request is no longer valid.</p><p>Go back to the service and log in again.</p>")
        case .levelTooLow(let reached, let requested, _):
            return lang == .it
                ? page(lang, title: "Livello di sicurezza insufficiente", body: "<p class=\"err\">Il servizio richiede il livello \(requested.rawValue); questa carta consente il livello \(reached.rawValue).</p>")
                : page(lang, title: "Security level too low", body: "<p class=\"err\">The service requires level \(requested.rawValue); this card gives level \(reached.rawValue).</p>")
        case .denied:
            return lang == .it
                ? page(lang, title: "Accesso annullato", body: "<p>Hai annullato l'accesso: nessun dato è stato inviato.</p>")
                : page(lang, title: "Login cancelled", body: "<p>You cancelled the login: no data were sent.</p>")
        case .wrongState, .differentCard:
            return lang == .it
                ? page(lang, title: "Richiesta non valida", body: "<p class=\"err\">Questo passaggio dell'accesso è già stato completato o non corrisponde alla carta usata.</p><p>Torna al servizio e ripeti l'accesso.</p>")
                : page(lang, title: "Invalid request", body: "<p class=\"err\">This login step was already completed or does not match the card used.</p><p>Go back to the service and log in again.</p>")
        }
    }
}
