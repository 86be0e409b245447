import CNSTestPKI
import Foundation
import KeyMaterial
import SAML
import SAMLTestSupport
import Testing

@Suite struct ServiceProviderMetadataTests {
    func code(_ xml: String) -> MetadataError.Code? {
        do { _ = try ServiceProviderMetadata.parse(Array(xml.utf8)); return nil } catch let error as MetadataError { return error.code } catch { return nil }
    }

    @Test("sp add refuses metadata with no ACS, only Redirect ACS, no signing key, a weak key, no SP descriptor, or past validUntil")
    func refusals() throws {
        let sp = try TestServiceProvider()
        let good = sp.metadata()
        #expect(code(good) == nil)
        let parsed = try ServiceProviderMetadata.parse(Array(good.utf8))
        #expect(parsed.hasSPIDExtensions && parsed.defaultACS?.location == TestServiceProvider.acs0 && parsed.attributeServices.count == 2)
        let noACS = good.replacingOccurrences(of: #"<md:AssertionConsumerService[^>]*/>"#, with: "", options: .regularExpression)
        #expect(code(noACS) == .missingACS)
        let redirectOnly = good.replacingOccurrences(of: "bindings:HTTP-POST\" Location=\"https://sp.example.it/acs", with: "bindings:HTTP-Redirect\" Location=\"https://sp.example.it/acs")
        #expect(code(redirectOnly) == .unsupportedBinding)
        let noKey = good.replacingOccurrences(of: #"<md:KeyDescriptor use="signing">.*</md:KeyDescriptor>"#, with: "", options: .regularExpression)
        #expect(code(noKey) == .noSigningKey)
        let weakKey = try PrivateKey(.rsa1024)
        let weak = try CertificateBuilder(subject: [("CN", "weak SP")], serial: TestPKI.randomSerial(), notBefore: Date() - 60, notAfter: Date() + 86_400,
                                              extensions: []).build(key: weakKey, issuer: nil, issuerKey: weakKey)
        #expect(code(good.replacingOccurrences(of: sp.base64Certificate, with: Data(weak.derBytes).base64EncodedString())) == .weakKey)
        #expect(code(good.replacingOccurrences(of: "SPSSODescriptor", with: "IDPSSODescriptor")) == .noServiceProvider)
        #expect(code(good.replacingOccurrences(of: #"entityID="https://sp.example.it/sp""#,
                                               with: #"entityID="https://sp.example.it/sp" validUntil="2020-01-01T00:00:00Z""#)) == .expired)
        #expect(code("<html/>") == .malformed)
    }

    @Test("the service's name for citizens: mdui:DisplayName in the page's language, else OrganizationDisplayName; the admin's name overrides")
    func displayNames() throws {
        let sp = try TestServiceProvider()
        let good = sp.metadata()
        let ui = #"<md:Extensions><mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"><mdui:DisplayName xml:lang="it-IT">Servizi online del Comune</mdui:DisplayName><mdui:DisplayName xml:lang="en">Town council online services</mdui:DisplayName></mdui:UIInfo></md:Extensions>"#
        let organization = #"<md:Organization><md:OrganizationName xml:lang="it">Comune di Prova</md:OrganizationName><md:OrganizationDisplayName xml:lang="it">Comune  di   Prova</md:OrganizationDisplayName><md:OrganizationURL xml:lang="it">https://comune.example.it</md:OrganizationURL></md:Organization>"#
        let withUI = good.replacingOccurrences(of: #"AuthnRequestsSigned="true">"#, with: #"AuthnRequestsSigned="true">"# + ui)
            .replacingOccurrences(of: "</md:SPSSODescriptor>", with: "</md:SPSSODescriptor>" + organization)
        let both = try ServiceProviderMetadata.parse(Array(withUI.utf8))
        #expect(both.displayNames == ["it": "Servizi online del Comune", "en": "Town council online services"])
        #expect(both.organizationDisplayNames == ["it": "Comune di Prova"])   // whitespace collapsed
        var registration = sp.registration()
        #expect(registration.displayName(language: "it", metadata: both) == "Servizi online del Comune")
        #expect(registration.displayName(language: "en", metadata: both) == "Town council online services")
        let onlyOrganization = try ServiceProviderMetadata.parse(Array(good.replacingOccurrences(of: "</md:SPSSODescriptor>",
                                                                                                   with: "</md:SPSSODescriptor>" + organization).utf8))
        // No English name: the Italian one rather than an identifier.
        #expect(registration.displayName(language: "en", metadata: onlyOrganization) == "Comune di Prova")
        #expect(registration.displayName(language: "it", metadata: try ServiceProviderMetadata.parse(Array(good.utf8))) == nil)
        registration.displayName = "Anagrafe online"
        #expect(registration.displayName(language: "en", metadata: both) == "Anagrafe online")
    }

    @Test("ACS and single-logout locations must be https (http only to loopback): never javascript:, data: or plain http elsewhere")
    func locations() throws {
        let good = try TestServiceProvider().metadata()
        for bad in ["javascript:alert(document.domain)", "data:text/html,hi", "http://sp.example.it/acs", "ftp://sp.example.it/acs", "https:///nohost"] {
            #expect(code(good.replacingOccurrences(of: "Location=\"https://sp.example.it/acs", with: "Location=\"\(bad)")) == .malformed, "\(bad)")
        }
        let slo = #"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="LOCATION"/>"#
        func withSLO(_ location: String) -> String {
            good.replacingOccurrences(of: "<md:AssertionConsumerService", with: slo.replacingOccurrences(of: "LOCATION", with: location) + "<md:AssertionConsumerService",
                                      options: [], range: good.range(of: "<md:AssertionConsumerService"))
        }
        #expect(code(withSLO("javascript:alert(1)")) == .malformed)
        #expect(code(withSLO("https://sp.example.it/slo")) == nil)
        #expect(code(withSLO("http://127.0.0.1:9/slo")) == nil)
        #expect(ServiceProviderMetadata.isSafeLocation("https://sp.example.it/x") && !ServiceProviderMetadata.isSafeLocation("JAVASCRIPT:x"))
    }

    @Test("an HMAC SignatureMethod (CVE-2009-0217 class) is outside the allow-list")
    func hmacSignature() throws {
        let sp = try TestServiceProvider()
        let validator = try IdP.validator([sp])
        let signed = try sp.post(TestServiceProvider.request(issuer: sp.entityID))
        let hmac = String(decoding: signed.xml, as: UTF8.self).replacingOccurrences(
            of: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", with: "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
        #expect(hmac.contains("hmac-sha1"))
        do {
            _ = try validator.validate(IncomingMessage.post(form: ["SAMLRequest": Data(hmac.utf8).base64EncodedString()]), now: Date())
            Issue.record("an HMAC-signed request was accepted")
        } catch { #expect(error.reason == "signature" && error.delivery == .page) }
    }
}
