import CNSValidation
import Foundation
import ItalianIdentity
import LoginOutcome
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity

/// The emitted XML, byte for byte, with a fixed clock, fixed IDs and the test-only key in Fixtures/ (RSA PKCS#1 v1.5
/// signatures are deterministic). `CNSGW_UPDATE_GOLDEN=1 swift test --filter ResponseGoldenTests` rewrites the files.
@Suite struct ResponseGoldenTests {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    func key() throws -> (XMLSigningKey, String) {
        let keyPEM = try String(contentsOf: Self.fixtures.appendingPathComponent("golden-test-idp.key.pem"), encoding: .utf8)
        let certPEM = try String(contentsOf: Self.fixtures.appendingPathComponent("golden-test-idp.crt.pem"), encoding: .utf8)
        return (try XMLSigningKey(privateKeyPEM: keyPEM, certificatePEM: certPEM), certPEM)
    }

    func builder() throws -> ResponseBuilder {
        final class Counter: @unchecked Sendable { var n = 0 }
        let counter = Counter()
        return ResponseBuilder(idp: IdP.config, key: try key().0) {
            counter.n += 1
            return "_fixed\(counter.n)"
        }
    }

    func compare(_ xml: String, golden name: String) throws {
        if ProcessInfo.processInfo.environment["CNSGW_UPDATE_GOLDEN"] == "1" {
            try xml.write(to: Self.source.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
        #expect(xml == expected, "\(name) differs from the golden file:\n\(xml)")
    }

    static let identity: AuthenticatedCitizen = {
        let citizen = try! CNSSubjectMapper(registry: try? BelfioreRegistry.bundled())
            .identity(from: [SubjectAttribute(oid: "2.5.4.3", value: "RCCMNL83S18D969H/6120016461039008.abc"),
                             SubjectAttribute(oid: "2.5.4.42", value: "MARIO"), SubjectAttribute(oid: "2.5.4.4", value: "ROSSI")],
                      referenceDate: CalendarDate(year: 2026, month: 12, day: 1)!).get()
        return AuthenticatedCitizen(citizen)
    }()

    static let destination = ResponseDestination(serviceProvider: "https://sp.example.it/sp", assertionConsumerServiceURL: "https://sp.example.it/acs",
                                                 inResponseTo: "_request1", relayState: "rs")

    @Test("a SPID Response: signed assertion, transient NameID, bearer confirmation, audience, level, requested attributes only")
    func success() throws {
        let login = ResponseBuilder.Login(identity: Self.identity, level: .spidL2, authenticatedAt: Self.now - 30, sessionIndex: "_session",
                                          attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth", "spidCode"], allowDerivedAttributes: true,
                                          includeOIDNames: false, signResponse: false)
        let xml = try builder().success(login, to: Self.destination, now: Self.now)
        try compare(xml, golden: "response-success.xml")
        // The assertion's signature verifies with the published certificate, and covers the assertion.
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        let assertion = try #require(document.root.child("Assertion", namespace: SAMLNames.assertionNS))
        _ = try XMLSignatureVerifier.verify(assertion, certificate: Array(try key().1.utf8))
        #expect(!xml.contains("SessionIndex") && !xml.contains("spidCode"))   // no SessionIndex at SpidL2; nothing made up
        #expect(xml.contains(#"xsi:type="xs:date">1983-11-18</saml:AttributeValue>"#))
    }

    @Test("a signed Response (the default): built from the canonical form, its signature and the assertion's verify with libxmlsec1")
    func signedResponse() throws {
        let login = ResponseBuilder.Login(identity: Self.identity, level: .spidL2, authenticatedAt: Self.now - 30, sessionIndex: nil,
                                          attributes: ["fiscalNumber", "name", "dateOfBirth"], allowDerivedAttributes: true,
                                          includeOIDNames: false, signResponse: true)
        let xml = try builder().success(login, to: Self.destination, now: Self.now)
        try compare(xml, golden: "response-success-signed.xml")
        let certificate = Array(try key().1.utf8)
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        _ = try XMLSignatureVerifier.verify(document.root, certificate: certificate)
        _ = try XMLSignatureVerifier.verify(try #require(document.root.child("Assertion", namespace: SAMLNames.assertionNS)), certificate: certificate)
        // The Response's signature covers the assertion: a changed attribute value breaks it (and the assertion's).
        let tampered = try ParsedXML(Array(xml.replacingOccurrences(of: ">Mario<", with: ">Maria<").utf8), maximumSize: 1 << 20)
        #expect(throws: XMLSecurityError.self) { _ = try XMLSignatureVerifier.verify(tampered.root, certificate: certificate) }
        // ...and its own status: a changed StatusCode breaks it.
        let status = try ParsedXML(Array(xml.replacingOccurrences(of: "status:Success", with: "status:Requester").utf8), maximumSize: 1 << 20)
        #expect(throws: XMLSecurityError.self) { _ = try XMLSignatureVerifier.verify(status.root, certificate: certificate) }
    }

    @Test("an error Response: signed, no assertion, status, sub-status and ErrorCode")
    func failure() throws {
        let error = SAMLRequestError(14, subStatus: SAMLNames.Status.requestUnsupported, reason: "destination", "test")
        let xml = try builder().failure(error, to: Self.destination, now: Self.now)
        try compare(xml, golden: "response-error.xml")
        #expect(!xml.contains("Assertion") && xml.contains("ErrorCode nr14"))
    }

    @Test("IdP metadata: signed, WantAuthnRequestsSigned, both bindings, transient, validUntil")
    func metadata() throws {
        let (signingKey, certificate) = try key()
        let xml = try IdentityProviderMetadata.build(IdP.config, certificatesPEM: [certificate], signingKey: signingKey, now: Self.now, id: "_metadata")
        try compare(xml, golden: "idp-metadata.xml")
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        _ = try XMLSignatureVerifier.verify(document.root, certificate: Array(certificate.utf8))
    }
}
