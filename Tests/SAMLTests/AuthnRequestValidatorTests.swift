import CNSValidation
import Foundation
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity

@Suite struct AuthnRequestValidatorTests {
    let sp: TestServiceProvider
    init() throws { sp = try TestServiceProvider() }

    func outcome(_ message: IncomingMessage, profile: ServiceProviderRegistration.Profile = .spid, now: Date = Date(),
                 extraSPs: [TestServiceProvider] = []) throws -> Result<ValidatedAuthnRequest, SAMLRequestError> {
        let validator = try IdP.validator([sp] + extraSPs, profile: profile)
        do { return .success(try validator.validate(message, now: now)) } catch { return .failure(error) }
    }

    func refusal(_ message: IncomingMessage, profile: ServiceProviderRegistration.Profile = .spid) throws -> SAMLRequestError? {
        if case .failure(let error) = try outcome(message, profile: profile) { return error }
        return nil
    }

    func request(_ attributes: [String: String?] = [:], body: String? = nil) -> String {
        TestServiceProvider.request(issuer: sp.entityID, attributes: attributes, body: body)
    }

    @Test("a SPID request over POST and over Redirect: ACS, attributes, level, RelayState")
    func valid() throws {
        for message in [try sp.post(request()), try IncomingMessage.redirect(rawQuery: sp.redirectQuery(request()))] {
            let validated = try outcome(message).get()
            #expect(validated.issuer == sp.entityID && validated.id == "_a1b2c3" && validated.level == .spidL2 && validated.comparison == .minimum)
            #expect(validated.destination.assertionConsumerServiceURL == TestServiceProvider.acs0 && validated.destination.relayState == "rs1")
            #expect(validated.attributes == ["fiscalNumber", "name", "familyName"] && validated.forceAuthn)
        }
        let byURL = try outcome(sp.post(request(["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": TestServiceProvider.acs1,
                                                 "ProtocolBinding": SAMLNames.postBinding, "AttributeConsumingServiceIndex": "1"]))).get()
        #expect(byURL.destination.assertionConsumerServiceURL == TestServiceProvider.acs1 && byURL.attributes == ["fiscalNumber", "dateOfBirth"])
    }

    @Test("the saml2 profile accepts saml2int requests: AllowCreate, IsPassive=false, no context or attribute set")
    func standardProfile() throws {
        let body = #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/>"#
        let validated = try outcome(sp.post(request(["IsPassive": "false", "AttributeConsumingServiceIndex": nil, "ForceAuthn": nil], body: body)),
                                    profile: .saml2).get()
        #expect(validated.level == .spidL2 && validated.comparison == .minimum && validated.profile == .saml2)
        let passive = try #require(try refusal(sp.post(request(["IsPassive": "true"])), profile: .saml2))
        #expect(passive.spidCode == 15 && passive.status == SAMLNames.Status.responder && passive.subStatus == SAMLNames.Status.noPassive)
    }

    @Test("no safe ACS: unknown issuer, unsigned, wrong key, SHA-1, tampered query, issuer/key mix-up — an error page, no Response")
    func pageRefusals() throws {
        let other = try TestServiceProvider(entityID: "https://other.example.it/sp")
        let stranger = TestServiceProvider.request(issuer: "https://unknown.example.it")
        #expect(try refusal(sp.post(stranger))?.reason == "unknown_issuer")
        // Unsigned POST and Redirect.
        let unsigned = try IncomingMessage.post(form: ["SAMLRequest": Data(request().utf8).base64EncodedString()])
        #expect(try refusal(unsigned)?.reason == "signature")
        let query = try sp.redirectQuery(request())
        let stripped = query.components(separatedBy: "&").filter { !$0.hasPrefix("Signature=") && !$0.hasPrefix("SigAlg=") }.joined(separator: "&")
        #expect(try refusal(IncomingMessage.redirect(rawQuery: stripped))?.reason == "signature_missing")
        // Signed with a key that is not in the issuer's metadata (attack 7): the KeyInfo certificate is never used.
        #expect(try refusal(sp.post(request(), signWith: other.signingKey))?.reason == "signature")
        #expect(try refusal(IncomingMessage.redirect(rawQuery: sp.redirectQuery(request(), signer: other.key)))?.reason == "signature")
        // Issuer of one SP, signature of another registered SP (attack 19).
        let validatorBoth = try IdP.validator([sp, other])
        #expect(throws: SAMLRequestError.self) { _ = try validatorBoth.validate(try other.post(request()), now: Date()) }
        // Algorithm downgrade (attack 8) and tampered signed octets (attack 9).
        let sha1 = try sp.redirectQuery(request(), sigAlg: "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
        #expect(try refusal(IncomingMessage.redirect(rawQuery: sha1))?.reason == "algorithm")
        let relay = query.replacingOccurrences(of: "RelayState=rs1", with: "RelayState=rs2")
        #expect(try refusal(IncomingMessage.redirect(rawQuery: relay))?.reason == "signature")
        for error in try [refusal(sp.post(stranger)), refusal(unsigned)].compactMap({ $0 }) { #expect(error.delivery == .page) }
    }

    @Test("XML attacks: wrapped request (XSW), DOCTYPE/XXE, entity expansion, XSLT transform, duplicate IDs, DEFLATE bomb")
    func xmlAttacks() throws {
        // XSW (attack 5): the signed request moved into Extensions, an evil request at the root with another ACS.
        let signed = try ParsedXML(Array(request().utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(signed.root, after: signed.root.child("Issuer", namespace: SAMLNames.assertionNS), key: sp.signingKey)
        let original = signed.serialized().replacingOccurrences(of: #"<?xml version="1.0" encoding="UTF-8"?>"#, with: "")
        let evil = request(["ID": "_evil", "AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": "https://evil.example.org/acs"],
                           body: "<samlp:Extensions>\(original)</samlp:Extensions>")
        let wrapped = try IncomingMessage.post(form: ["SAMLRequest": Data(evil.utf8).base64EncodedString()])
        let wrapError = try #require(try refusal(wrapped))
        #expect(wrapError.reason == "signature" && wrapError.delivery == .page, "\(wrapError)")

        func raw(_ xml: String) throws -> SAMLRequestError? { try refusal(IncomingMessage.post(form: ["SAMLRequest": Data(xml.utf8).base64EncodedString()])) }
        let xxe = #"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>"# + request().replacingOccurrences(of: ">\(sp.entityID)<", with: ">&x;<")
        #expect(try raw(xxe)?.reason == "dtd_forbidden")
        let laughs = #"<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>"# + request()
        #expect(try raw(laughs)?.reason == "dtd_forbidden")
        let duplicate = request(body: #"<samlp:Extensions><x ID="_a1b2c3"/></samlp:Extensions>"#)
        #expect(try refusal(sp.post(duplicate))?.reason == "signature")
        // An XSLT transform in the signature (attack 13) is outside the allow-list.
        let signedPost = try sp.post(request())
        // (libxmlsec1's template writes the signature in the default namespace.)
        let withXSLT = String(decoding: signedPost.xml, as: UTF8.self).replacingOccurrences(
            of: #"Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            with: #"Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/></Transform>"#)
        #expect(withXSLT.contains("REC-xslt"))
        #expect(try raw(withXSLT)?.reason == "signature")
        // A DEFLATE bomb in the Redirect binding is refused by its inflated size.
        let bomb = Data(RawDeflate.deflate([UInt8](repeating: 0x20, count: 50_000_000))).base64EncodedString()
        let allowed = CharacterSet.alphanumerics
        do {
            _ = try IncomingMessage.redirect(rawQuery: "SAMLRequest=" + bomb.addingPercentEncoding(withAllowedCharacters: allowed)!)
            Issue.record("a DEFLATE bomb was inflated")
        } catch { #expect(error.reason == "too_large") }
    }
}
