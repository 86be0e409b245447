import Foundation
import XMLSecurity

/// The gateway's own SAML metadata (DOMAIN.md §3.5), signed with the active key.
public enum IdentityProviderMetadata {
    /// `certificatesPEM`: every key to publish (the signing one, and the next during a rollover).
    public static func build(_ idp: IdentityProviderConfiguration, certificatesPEM: [String], signingKey: XMLSigningKey, now: Date,
                             id: String = ResponseBuilder.randomID()) throws -> String {
        let e = XMLText.escape
        let keys = certificatesPEM.map { pem in
            let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            return #"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\#(base64)</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        }.joined()
        let attributes = AssertedAttributes.offered.map { #"<saml:Attribute Name="\#($0)" NameFormat="\#(SAMLNames.basicNameFormat)"/>"# }.joined()
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>\
            <md:EntityDescriptor xmlns:md="\(SAMLNames.metadataNS)" xmlns:ds="\(SAMLNames.dsigNS)" xmlns:saml="\(SAMLNames.assertionNS)" \
            ID="\(id)" entityID="\(e(idp.entityID))" validUntil="\(SAMLTime.format(now + idp.metadataValidity))" cacheDuration="PT1H">\
            <md:IDPSSODescriptor protocolSupportEnumeration="\(SAMLNames.protocolNS)" WantAuthnRequestsSigned="true">\(keys)\
            <md:SingleLogoutService Binding="\(SAMLNames.redirectBinding)" Location="\(e(idp.singleLogoutURL))"/>\
            <md:SingleLogoutService Binding="\(SAMLNames.postBinding)" Location="\(e(idp.singleLogoutURL))"/>\
            <md:NameIDFormat>\(SAMLNames.transientFormat)</md:NameIDFormat>\
            <md:SingleSignOnService Binding="\(SAMLNames.redirectBinding)" Location="\(e(idp.singleSignOnURL))"/>\
            <md:SingleSignOnService Binding="\(SAMLNames.postBinding)" Location="\(e(idp.singleSignOnURL))"/>\(attributes)\
            </md:IDPSSODescriptor>\
            <md:Organization><md:OrganizationName xml:lang="it">\(e(idp.organizationName))</md:OrganizationName>\
            <md:OrganizationDisplayName xml:lang="it">\(e(idp.organizationName))</md:OrganizationDisplayName>\
            <md:OrganizationURL xml:lang="it">\(e(idp.organizationURL))</md:OrganizationURL></md:Organization>\
            </md:EntityDescriptor>
            """
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: nil, key: signingKey)
        return document.serialized()
    }
}

/// The HTML form that carries a SAML message to its destination with HTTP-POST. It works without JavaScript
/// (a visible button).
public enum PostForm {
    public static func html(action: String, parameter: String, message: String, relayState: String?, title: String, button: String, lang: String) -> String {
        let e = XMLText.escape
        let encoded = Data(message.utf8).base64EncodedString()
        let relay = relayState.map { #"<input type="hidden" name="RelayState" value="\#(e($0))">"# } ?? ""
        return """
            <!doctype html>
            <html lang="\(lang)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title></head>
            <body><main><h1>\(e(title))</h1>
            <form method="post" action="\(e(action))">
            <input type="hidden" name="\(parameter)" value="\(encoded)">\(relay)
            <button type="submit">\(e(button))</button>
            </form></main></body></html>
            """
    }
}
