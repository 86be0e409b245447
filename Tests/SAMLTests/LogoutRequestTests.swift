import Foundation
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity

@Suite struct LogoutRequestTests {
    func logoutRequest(issuer: String, destination: String = IdP.config.singleLogoutURL, nameID: String = "_abc", instant: Date = Date()) -> String {
        """
        <samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" \
        Version="2.0" IssueInstant="\(SAMLTime.format(instant))" Destination="\(destination)">\
        <saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="\(issuer)">\(issuer)</saml:Issuer>\
        <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" NameQualifier="\(IdP.config.entityID)">\(nameID)</saml:NameID>\
        <samlp:SessionIndex>_s1</samlp:SessionIndex></samlp:LogoutRequest>
        """
    }

    @Test("a signed LogoutRequest names its NameID (comments included) and SessionIndex; the answer goes to the SP's POST SLO endpoint")
    func valid() throws {
        let sp = try TestServiceProvider()
        let validator = try IdP.validator([sp])
        let logout = try validator.validateLogout(sp.post(logoutRequest(issuer: sp.entityID, nameID: "_abc<!-- x -->def")), now: Date())
        #expect(logout.nameID == "_abcdef" && logout.sessionIndexes == ["_s1"] && logout.destination.assertionConsumerServiceURL == "https://sp.example.it/slo")
        let redirect = try validator.validateLogout(IncomingMessage.redirect(rawQuery: sp.redirectQuery(logoutRequest(issuer: sp.entityID))), now: Date())
        #expect(redirect.id == "_lr1" && redirect.destination.relayState == "rs1")
    }

    @Test("unsigned or foreign LogoutRequests get a page; a wrong Destination or a stale one a LogoutResponse error")
    func refusals() throws {
        let sp = try TestServiceProvider(), other = try TestServiceProvider(entityID: "https://other.example.it/sp")
        let validator = try IdP.validator([sp, other])
        func error(_ message: IncomingMessage) -> SAMLRequestError? {
            do { _ = try validator.validateLogout(message, now: Date()); return nil } catch { return error }
        }
        let unsigned = try IncomingMessage.post(form: ["SAMLRequest": Data(logoutRequest(issuer: sp.entityID).utf8).base64EncodedString()])
        #expect(error(unsigned)?.delivery == .page)
        #expect(try error(other.post(logoutRequest(issuer: sp.entityID)))?.reason == "signature")   // another SP's key (attack 20)
        let wrongPlace = try #require(try error(sp.post(logoutRequest(issuer: sp.entityID, destination: "https://elsewhere.example.it/slo"))))
        #expect(wrongPlace.spidCode == 14)
        if case .response(let destination) = wrongPlace.delivery { #expect(destination.assertionConsumerServiceURL == "https://sp.example.it/slo") }
        else { Issue.record("no LogoutResponse for a wrong Destination") }
        #expect(try error(sp.post(logoutRequest(issuer: sp.entityID, instant: Date() - 3600)))?.spidCode == 13)
    }
}
