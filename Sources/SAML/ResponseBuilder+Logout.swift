import Foundation
import XMLSecurity

extension ResponseBuilder {
    /// A signed LogoutResponse.
    public func logoutResponse(status: String, subStatus: String? = nil, message: String? = nil, to destination: ResponseDestination, now: Date) throws -> String {
        let e = XMLText.escape
        let inner = subStatus.map { #"<samlp:StatusCode Value="\#($0)"/>"# } ?? ""
        let statusMessage = message.map { "<samlp:StatusMessage>\(e($0))</samlp:StatusMessage>" } ?? ""
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>\
            <samlp:LogoutResponse xmlns:samlp="\(SAMLNames.protocolNS)" xmlns:saml="\(SAMLNames.assertionNS)" ID="\(makeID())" Version="2.0" \
            IssueInstant="\(SAMLTime.format(now))" Destination="\(e(destination.assertionConsumerServiceURL))"\(Self.inResponseTo(destination))>\
            <saml:Issuer Format="\(SAMLNames.entityFormat)" NameQualifier="\(e(idp.entityID))">\(e(idp.entityID))</saml:Issuer>\
            <samlp:Status><samlp:StatusCode Value="\(status)">\(inner)</samlp:StatusCode>\(statusMessage)</samlp:Status></samlp:LogoutResponse>
            """
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        return document.serialized()
    }
}
extension ResponseBuilder {
    /// A signed LogoutRequest from the gateway to a service provider that took part in an ended session. The NameID is
    /// written exactly as the assertion gave it (SPs compare them whole).
    public func logoutRequest(id: String, nameID: String, sessionIndex: String, to sp: String, location: String, now: Date) throws -> String {
        let e = XMLText.escape
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>\
            <samlp:LogoutRequest xmlns:samlp="\(SAMLNames.protocolNS)" xmlns:saml="\(SAMLNames.assertionNS)" ID="\(id)" Version="2.0" \
            IssueInstant="\(SAMLTime.format(now))" Destination="\(e(location))" NotOnOrAfter="\(SAMLTime.format(now + idp.assertionLifetime))">\
            <saml:Issuer Format="\(SAMLNames.entityFormat)" NameQualifier="\(e(idp.entityID))">\(e(idp.entityID))</saml:Issuer>\
            <saml:NameID Format="\(SAMLNames.transientFormat)" NameQualifier="\(e(idp.entityID))">\(e(nameID))</saml:NameID>\
            <samlp:SessionIndex>\(e(sessionIndex))</samlp:SessionIndex></samlp:LogoutRequest>
            """
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        return document.serialized()
    }
}
