import CNSTestPKI
import CNSValidation
import Foundation
import KeyMaterial
import Testing

@Suite struct CNSVerifierTests {
    let pki = try! Fixture()

    @Test("a CNS card is valid, yields the anchor's level and the citizen's identity")
    func validCard() async throws {
        let report = try await pki.verify(try pki.certificate())
        #expect(report.valid, "\(report.detail)")
        #expect(report.reason == nil)
        #expect(report.level == .spidL2)
        #expect(report.chain.count == 2)
        #expect(report.identity?.fiscalNumber == "TINIT-RCCMNL83S18D969H")
        #expect(report.identity?.placeOfBirth.name == "Genova")
        #expect(report.identity?.name == "MARIO")
        #expect(report.revocation?.status == .notChecked)
    }

    @Test("validity: expired and not yet valid, inclusive bounds")
    func validity() async throws {
        let expired = try pki.certificate(notBefore: Fixture.referenceTime - 400 * Fixture.day, notAfter: Fixture.referenceTime - 1)
        #expect(try await pki.verify(expired).reason == .expired)
        let future = try pki.certificate(notBefore: Fixture.referenceTime + 1, notAfter: Fixture.referenceTime + 400 * Fixture.day)
        #expect(try await pki.verify(future).reason == .notYetValid)
        let edge = try pki.certificate(notAfter: Fixture.referenceTime)
        #expect(try await pki.verify(edge).valid)
    }

    @Test("an unknown CA and a forged signature")
    func trustAndSignature() async throws {
        let other = try Fixture(name: "Regione Altrove - CA Cittadini", key: try PrivateKey(.rsa2048))
        #expect(try await pki.verify(try other.certificate()).reason == .untrusted)
        // A genuine card whose signature bits were altered.
        var der = try pki.certificate().derBytes
        der[der.count - 1] ^= 0x01
        #expect(try await pki.verify(try X509Certificate(derEncoded: der)).reason == .signature)
        // Same issuer name, another key (and so another key identifier): no path to the anchor.
        let impostor = try Fixture(key: try PrivateKey(.rsa2048))
        #expect(try await pki.verify(try impostor.certificate()).reason == .untrusted)
    }

    @Test("the CNS profile: key usage, nonRepudiation, clientAuth, policy")
    func profile() async throws {
        func ext(_ replacing: String, _ value: String?) -> [(String, String)] {
            var e = TestPKI.cardProfile(crlURL: nil, ocspURL: nil).filter { $0.0 != replacing }
            if let value { e.append((replacing, value)) }
            return e
        }
        #expect(try await pki.verify(try pki.certificate(extensions: ext("keyUsage", "critical,keyEncipherment"))).reason == .keyUsage)
        #expect(try await pki.verify(try pki.certificate(extensions: ext("keyUsage", "critical,digitalSignature,nonRepudiation"))).reason == .keyUsage)
        #expect(try await pki.verify(try pki.certificate(extensions: ext("keyUsage", nil))).reason == .keyUsage)
        #expect(try await pki.verify(try pki.certificate(extensions: ext("extendedKeyUsage", "emailProtection"))).reason == .extendedKeyUsage)
        #expect(try await pki.verify(try pki.certificate(extensions: ext("extendedKeyUsage", nil))).reason == .extendedKeyUsage)
        let otherPolicy = try pki.certificate(extensions: ext("certificatePolicies", "1.3.76.99.1"))
        #expect(try await pki.verify(otherPolicy).reason == .policy)
        #expect(try await pki.verify(otherPolicy, policy: AnchorPolicy(acceptedPolicies: [], revocation: .init(order: .none))).valid)
        let cie = try pki.certificate(extensions: ext("certificatePolicies", AnchorPolicy.ciePolicy))
        #expect(try await pki.verify(cie, policy: AnchorPolicy(acceptedPolicies: [AnchorPolicy.cnsPolicy, AnchorPolicy.ciePolicy], revocation: .init(order: .none))).valid)
    }

    @Test("basic constraints, path length, name constraints and unknown critical extensions")
    func rfc5280Structure() async throws {
        let intermediateKey = try PrivateKey(.rsa2048)
        func intermediate(_ root: Fixture, _ extensions: [(String, String)]) throws -> X509Certificate {
            try root.certificate(cn: "Sub CA", key: intermediateKey, extensions: extensions, extraSubject: [])
        }
        // A non-CA "intermediate".
        let notCA = try intermediate(pki, [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,keyCertSign,cRLSign"),
                                          ("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid")])
        let leafUnderNotCA = try pki.certificate(issuer: (notCA, intermediateKey))
        #expect(try await pki.verify(leafUnderNotCA, intermediates: [notCA]).reason == .basicConstraints)
        // pathlen:0 root with an intermediate CA below it.
        let subCA = try intermediate(pki, [("basicConstraints", "critical,CA:TRUE"), ("keyUsage", "critical,keyCertSign,cRLSign"),
                                           ("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid"), ("certificatePolicies", "2.5.29.32.0")])
        let leafUnderSub = try pki.certificate(issuer: (subCA, intermediateKey))
        #expect(try await pki.verify(leafUnderSub, intermediates: [subCA]).reason == .pathLength)
        // A root that permits only .gov.it e-mail addresses.
        let constrained = try Fixture(name: "Constrained CA", extensions: [
            ("basicConstraints", "critical,CA:TRUE"), ("keyUsage", "critical,keyCertSign,cRLSign"), ("subjectKeyIdentifier", "hash"),
            ("nameConstraints", "critical,permitted;email:.gov.it")])
        let outside = try constrained.certificate(extensions: TestPKI.cardProfile(crlURL: nil, ocspURL: nil) + [("subjectAltName", "email:mario@example.com")])
        #expect(try await constrained.verify(outside).reason == .nameConstraints)
        let inside = try constrained.certificate(extensions: TestPKI.cardProfile(crlURL: nil, ocspURL: nil) + [("subjectAltName", "email:mario@asl.gov.it")])
        #expect(try await constrained.verify(inside).valid)
        // An extension nobody understands, marked critical.
        let unknown = try pki.certificate(extensions: TestPKI.cardProfile(crlURL: nil, ocspURL: nil) + [("1.3.6.1.4.1.99999.1", "critical,ASN1:NULL")])
        #expect(try await pki.verify(unknown).reason == .criticalExtension)
    }

    @Test("legacy RSA-1024 and SHA-1 are accepted and reported, and refused when the anchor says so")
    func legacyCrypto() async throws {
        let rsa1024 = try pki.certificate(key: try PrivateKey(.rsa1024))
        let accepted = try await pki.verify(rsa1024)
        #expect(accepted.valid, "\(accepted.detail)")
        #expect(accepted.legacyCrypto == ["rsa1024"])
        let refusing = AnchorPolicy(revocation: .init(order: .none), refuseWeakKeys: true)
        #expect(try await pki.verify(rsa1024, policy: refusing).reason == .signature)

        let sha1 = try pki.certificate(digest: "sha1")
        let sha1Report = try await pki.verify(sha1)
        #expect(sha1Report.valid, "\(sha1Report.detail)")
        #expect(sha1Report.legacyCrypto == ["sha1"])
        #expect(try await pki.verify(sha1, policy: AnchorPolicy(revocation: .init(order: .none), refuseSHA1: true)).reason == .signature)

        let p256 = try await pki.verify(try pki.certificate(key: try PrivateKey(.p256)))
        #expect(p256.valid && p256.legacyCrypto.isEmpty)
    }

    @Test("identity: the CN must carry a valid codice fiscale; lowercase is normalised")
    func identity() async throws {
        let cases: [(String, Bool)] = [
            ("RCCMNL83S18D969H", false),                      // no slash
            ("RCCMNL83S18D969X/6123456789012345.aGFzaA==", false),   // wrong check character
            ("RCC MNL83S18D969H/6123456789012345.aGFzaA==", false),  // space
            ("00743110157/6123456789012345.aGFzaA==", false),        // a company's number
            ("rccmnl83s18d969h/6123456789012345.aGFzaA==", true),
            ("RCCMNLUPSMUDVSVO/6123456789012345.aGFzaA==", true),    // omocodia level 7
        ]
        for (cn, valid) in cases {
            let report = try await pki.verify(try pki.certificate(cn: cn))
            #expect(report.valid == valid, "\(cn): \(report.detail)")
            if !valid { #expect(report.reason == .identity, "\(cn)") }
        }
        let report = try await pki.verify(try pki.certificate(cn: "rccmnl83s18d969h/6123456789012345.aGFzaA=="))
        #expect(report.identity?.codiceFiscale == "RCCMNL83S18D969H")
        #expect(report.identity?.cardId == "6123456789012345")
    }
}
