import CNSTestPKI
import CNSTestSupport
import CNSValidation
import Foundation
import KeyMaterial
import Testing
import TrustedList
import XMLSecurity

@Suite struct TrustedListTests {
    /// A list signer (key and certificate files) and three CA certificates.
    struct Material {
        let signerKey: String
        let signerCert: String
        let signerPEM: [UInt8]
        let cas: [X509Certificate]

        init() throws {
            let dir = NSTemporaryDirectory() + "cnsgw-tsl-material-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let key = try PrivateKey(.rsa2048)
            let cert = try CertificateBuilder(subject: [("CN", "AgID TSL signer (test)"), ("C", "IT")], serial: TestPKI.randomSerial(),
                                                  notBefore: Date() - 3600, notAfter: Date() + 86_400 * 365,
                                                  extensions: [("keyUsage", "critical,digitalSignature")]).build(key: key, issuer: nil, issuerKey: key)
            signerKey = dir + "/signer.key"
            signerCert = dir + "/signer.pem"
            try key.pemPrivateKey.write(toFile: signerKey, atomically: true, encoding: .utf8)
            try cert.pem.write(toFile: signerCert, atomically: true, encoding: .utf8)
            signerPEM = Array(cert.pem.utf8)
            cas = try (1...3).map { i in
                let k = try PrivateKey(.rsa2048)
                return try CertificateBuilder(subject: [("CN", "Regione \(i) - CA Cittadini"), ("C", "IT")], serial: TestPKI.randomSerial(),
                                                  notBefore: Date() - 3600, notAfter: Date() + 86_400 * 3650,
                                                  extensions: [("basicConstraints", "critical,CA:TRUE,pathlen:0"), ("keyUsage", "critical,keyCertSign,cRLSign")])
                    .build(key: k, issuer: nil, issuerKey: k)
            }
        }

        func services() -> [TrustedListFixture.Service] {
            [
                .init(provider: "Actalis S.p.A.", name: "Regione 1 - CA Cittadini", certificatesDER: [Data(cas[0].derBytes)]),
                .init(provider: "Poste Italiane S.p.A.", name: "Regione 2 - CA Cittadini", certificatesDER: [Data(cas[1].derBytes)]),
                .init(provider: "Poste Italiane S.p.A.", name: "Regione 3 - withdrawn", status: "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn",
                      certificatesDER: [Data(cas[2].derBytes)]),
                .init(provider: "Actalis S.p.A.", name: "Qualified signatures", type: "http://uri.etsi.org/TrstSvc/Svctype/CA/QC",
                      certificatesDER: [Data(cas[2].derBytes)]),
            ]
        }
    }

    func code(_ body: () throws -> Void) -> TrustedListError.Code? {
        do { try body(); return nil } catch let error as TrustedListError { return error.code } catch { return nil }
    }

    @Test("a list signed by the configured certificate yields its identity-verification CAs in force, and nothing else")
    func signedList() throws {
        let m = try Material()
        for c14n in ["http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"] {
            let signed = try TrustedListFixture.sign(TrustedListFixture.unsigned(sequence: 42, services: m.services(), canonicalization: c14n),
                                                     keyPEMPath: m.signerKey, certificatePEMPath: m.signerCert)
            let list = try TrustedList.load(Array(signed.utf8), signer: m.signerPEM, now: Date())
            #expect(list.sequenceNumber == 42 && list.operatorName == "Agenzia per l'Italia Digitale (test)" && list.services.count == 4)
            #expect(list.identityVerificationServices.map(\.serviceName) == ["Regione 1 - CA Cittadini", "Regione 2 - CA Cittadini"])
            #expect(list.identityVerificationServices.flatMap(\.certificates).map(\.fingerprintHex) == [m.cas[0].fingerprintHex, m.cas[1].fingerprintHex])
            #expect(list.identityVerificationServices[0].providerName == "Actalis S.p.A.")   // the English name
        }
    }

    @Test("tampering, another signer, no signature, a DOCTYPE, a stale list and a signature over another element are refused")
    func refusals() throws {
        let m = try Material()
        let template = TrustedListFixture.unsigned(sequence: 7, services: m.services())
        let signed = try TrustedListFixture.sign(template, keyPEMPath: m.signerKey, certificatePEMPath: m.signerCert)

        // A CA slipped in after signing: the withdrawn service made active.
        let tampered = signed.replacingOccurrences(of: "Svcstatus/withdrawn", with: "Svcstatus/granted")
        #expect(code { _ = try TrustedList.load(Array(tampered.utf8), signer: m.signerPEM, now: Date()) } == .signature)
        let other = try Material()
        #expect(code { _ = try TrustedList.load(Array(signed.utf8), signer: other.signerPEM, now: Date()) } == .signature)
        let unsigned = template.replacingOccurrences(of: #"<ds:Signature Id="signature-1">"#, with: "<!--").replacingOccurrences(of: "</ds:Signature>", with: "-->")
        #expect(code { _ = try TrustedList.load(Array(unsigned.utf8), signer: m.signerPEM, now: Date()) } == .signature)
        let doctype = signed.replacingOccurrences(of: #"<?xml version="1.0" encoding="UTF-8"?>"#,
                                                  with: #"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>"#)
        #expect(code { _ = try TrustedList.load(Array(doctype.utf8), signer: m.signerPEM, now: Date()) } == .malformed)
        #expect(code { _ = try TrustedList.load(Array(signed.utf8), signer: m.signerPEM, now: Date() + 365 * 86_400) } == .stale)
        #expect(code { _ = try TrustedList.load(Array("<a/>".utf8), signer: m.signerPEM, now: Date()) } == .malformed)

        // Wrapping: a signature that covers only the SchemeInformation (by ID) is not a signature over the list.
        let partial = template.replacingOccurrences(of: "<tsl:SchemeInformation>", with: #"<tsl:SchemeInformation Id="scheme">"#)
            .replacingOccurrences(of: #"<ds:Reference URI="">"#, with: ##"<ds:Reference URI="#scheme">"##)
            .replacingOccurrences(of: #"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#, with: "")
        let partialSigned = try TrustedListFixture.sign(partial, keyPEMPath: m.signerKey, certificatePEMPath: m.signerCert,
                                                        idElements: ["http://uri.etsi.org/02231/v2#:SchemeInformation"])
        #expect(code { _ = try TrustedList.load(Array(partialSigned.utf8), signer: m.signerPEM, now: Date()) } == .signature)
        // SHA-1 digests are refused unless allowed.
        let sha1 = template.replacingOccurrences(of: "http://www.w3.org/2001/04/xmlenc#sha256", with: "http://www.w3.org/2000/09/xmldsig#sha1")
        let sha1Signed = try TrustedListFixture.sign(sha1, keyPEMPath: m.signerKey, certificatePEMPath: m.signerCert)
        #expect(code { _ = try TrustedList.load(Array(sha1Signed.utf8), signer: m.signerPEM, now: Date()) } == .signature)
    }

    @Test("XML hardening: size limit, DOCTYPE, duplicate IDs")
    func hardening() throws {
        #expect(throws: XMLSecurityError(.tooLarge, "")) { _ = try ParsedXML(Array(repeating: 0x20, count: 2000), maximumSize: 1000) }
        #expect(throws: XMLSecurityError(.dtdForbidden, "")) {
            _ = try ParsedXML(Array(#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#.utf8), maximumSize: 10_000)
        }
        #expect(throws: XMLSecurityError(.malformed, "")) { _ = try ParsedXML(Array("<a><b></a>".utf8), maximumSize: 10_000) }
        let duplicate = try ParsedXML(Array(#"<a ID="x"><b ID="x"/><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></a>"#.utf8), maximumSize: 10_000)
        #expect(throws: XMLSecurityError(.duplicateID, "")) { _ = try XMLSignatureVerifier.verify(duplicate.root, certificate: []) }
        let commented = try ParsedXML(Array("<a>user@evil.it<!-- x -->.example.it</a>".utf8), maximumSize: 10_000)
        #expect(commented.root.text == "user@evil.it.example.it")
    }
}
