import CNSTestPKI
import CNSValidation
import Foundation
import KeyMaterial
import Testing

@Suite struct CRLTests {
    let pki = try! Fixture()
    let now = Fixture.referenceTime
    let crlPolicy = AnchorPolicy(revocation: RevocationPolicy(order: .crlOnly))

    func crl(_ entries: [TestCRLEntry], thisUpdate: Date? = nil, nextUpdate: Date?? = nil, key: PrivateKey? = nil, issuer: X509Certificate? = nil,
             crlNumber: UInt64? = 7, extra: [[UInt8]] = []) throws -> String {
        let builder = TestCRLBuilder(issuer: issuer ?? pki.root, issuerKey: key ?? pki.rootKey, thisUpdate: thisUpdate ?? now - 3600,
                                     nextUpdate: nextUpdate ?? (now + 86_400), crlNumber: crlNumber, extraExtensions: extra)
        return Fixture.temporaryFile(try builder.build(entries: entries))
    }

    @Test("revoked, suspended (certificateHold) and good cards through a CRL file")
    func revokedAndHeld() async throws {
        let revoked = try pki.certificate(), held = try pki.certificate(), good = try pki.certificate()
        let file = try crl([TestCRLEntry(serial: revoked.serialNumber, revokedAt: now - 7200, reason: .keyCompromise),
                            TestCRLEntry(serial: held.serialNumber, revokedAt: now - 7200, reason: .certificateHold)])
        let r = try await pki.verify(revoked, policy: crlPolicy, crlFiles: [file])
        #expect(r.reason == .revoked)
        #expect(r.revocation?.method == .crl && r.revocation?.reason == "keyCompromise" && r.revocation?.source == file)
        let h = try await pki.verify(held, policy: crlPolicy, crlFiles: [file])
        #expect(h.reason == .revoked && h.detail.contains("suspended"))
        let g = try await pki.verify(good, policy: crlPolicy, crlFiles: [file])
        #expect(g.valid && g.revocation?.status == .good && g.revocation?.method == .crl)
        // Revoked after the validation time: it was still good then.
        let later = try await pki.verify(revoked, policy: crlPolicy, crlFiles: [file], at: now - 3 * 86_400, now: now)
        #expect(later.valid, "\(later.detail)")
    }

    @Test("a stale CRL fails closed; soft-fail accepts it within the configured staleness only")
    func staleCRL() async throws {
        let card = try pki.certificate()
        let file = try crl([], thisUpdate: now - 10 * 86_400, nextUpdate: now - 86_400)
        #expect(try await pki.verify(card, policy: crlPolicy, crlFiles: [file]).reason == .revocationUnknown)
        let lenient = AnchorPolicy(revocation: RevocationPolicy(order: .crlOnly, softFailMaxStaleness: 2 * 86_400))
        let accepted = try await pki.verify(card, policy: lenient, crlFiles: [file])
        #expect(accepted.valid && accepted.revocation?.stale == true)
        let tooStale = AnchorPolicy(revocation: RevocationPolicy(order: .crlOnly, softFailMaxStaleness: 3600))
        #expect(try await pki.verify(card, policy: tooStale, crlFiles: [file]).reason == .revocationUnknown)
        let noNextUpdate = try crl([], nextUpdate: .some(nil))
        #expect(try await pki.verify(card, policy: crlPolicy, crlFiles: [noNextUpdate]).reason == .revocationUnknown)
    }

    @Test("CRLs that must not be trusted: wrong key, other issuer, no cRLSign, no CRL number, unknown critical extension")
    func untrustworthyCRLs() async throws {
        let card = try pki.certificate()
        func reason(_ file: String) async throws -> FailureReason? { try await pki.verify(card, policy: crlPolicy, crlFiles: [file]).reason }
        #expect(try await reason(try crl([], key: try PrivateKey(.rsa2048))) == .revocationUnknown)
        let other = try Fixture(name: "Other CA", key: try PrivateKey(.rsa2048))
        #expect(try await reason(try crl([], key: other.rootKey, issuer: other.root)) == .revocationUnknown)
        #expect(try await reason(try crl([], crlNumber: nil)) == .revocationUnknown)
        #expect(try await reason(try crl([], extra: [TestCRLBuilder.customExtension(oid: "1.3.6.1.4.1.99999.7", critical: true)])) == .revocationUnknown)
        #expect(try await reason(try crl([], extra: [TestCRLBuilder.customExtension(oid: "1.3.6.1.4.1.99999.7", critical: false)])) == nil)
        // The issuer's key usage lacks cRLSign.
        let noCRLSign = try Fixture(name: "No CRL Sign CA", extensions: [("basicConstraints", "critical,CA:TRUE"), ("keyUsage", "critical,keyCertSign"),
                                                                          ("subjectKeyIdentifier", "hash")])
        let card2 = try noCRLSign.certificate()
        let file = Fixture.temporaryFile(try TestCRLBuilder(issuer: noCRLSign.root, issuerKey: noCRLSign.rootKey, thisUpdate: now - 60,
                                                            nextUpdate: now + 86_400).build(entries: []))
        #expect(try await noCRLSign.verify(card2, policy: crlPolicy, crlFiles: [file]).reason == .revocationUnknown)
        do {
            _ = try CertificateRevocationList.load(contentsOf: file, issuer: noCRLSign.root)
            Issue.record("a CRL from an issuer without cRLSign was accepted")
        } catch { #expect(error.code == .issuerCannotSignCRLs) }
    }

    @Test("truncated and garbage CRLs are malformed, never a crash")
    func malformedCRLs() throws {
        let der = try TestCRLBuilder(issuer: pki.root, issuerKey: pki.rootKey, thisUpdate: now, nextUpdate: now + 60)
            .build(entries: (0..<50).map { TestCRLEntry(serial: TestPKI.randomSerial(), revokedAt: now - Double($0), reason: .superseded) })
        for cut in stride(from: 0, to: der.count, by: 37) {
            #expect(throws: CRLError.self) { try CertificateRevocationList.parse(Array(der.prefix(cut)), issuer: pki.root) }
        }
        #expect(throws: CRLError.self) { try CertificateRevocationList.parse(Array("garbage".utf8), issuer: pki.root) }
        for _ in 0..<300 {
            var fuzzed = der
            fuzzed[Int.random(in: 0..<fuzzed.count)] ^= UInt8.random(in: 1...255)
            _ = try? CertificateRevocationList.parse(fuzzed, issuer: pki.root)   // any verdict, no crash
        }
        #expect(throws: CRLError.self) { try CertificateRevocationList.load(contentsOf: "/nonexistent.crl", issuer: pki.root) }
    }

    @Test("the serial index finds every listed serial and no other (200,000 synthetic entries)")
    func serialIndex() throws {
        let listed = (0..<500).map { i in TestCRLEntry(serial: TestPKI.randomSerial(), revokedAt: now - Double(i), reason: .keyCompromise) }
        let path = NSTemporaryDirectory() + "cnsgw-index-\(UUID().uuidString).der"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TestCRLBuilder(issuer: pki.root, issuerKey: pki.rootKey, thisUpdate: now, nextUpdate: now + 3600)
            .writeSynthetic(count: 200_000, listed: listed, to: path)
        let crl = try CertificateRevocationList.load(contentsOf: path, issuer: pki.root)
        #expect(crl.entries.count == 200_500)
        for e in listed {
            let found = crl.entries.entry(forSerial: e.serial)
            #expect(found?.reason == .keyCompromise && found?.revocationDate == Int64(e.revokedAt.timeIntervalSince1970))
            #expect(crl.entries.entry(forSerial: [0, 0] + e.serial) != nil)   // leading zeros do not matter
        }
        for _ in 0..<2_000 { #expect(crl.entries.entry(forSerial: TestPKI.randomSerial()) == nil) }
    }

    @Test("a CRL of 10 million entries loads; an entry limit refuses it with its own reason")
    func tenMillionEntries() throws {
        let card = try pki.certificate()
        let path = NSTemporaryDirectory() + "cnsgw-10m-\(UUID().uuidString).der"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TestCRLBuilder(issuer: pki.root, issuerKey: pki.rootKey, thisUpdate: now, nextUpdate: now + 3600)
            .writeSynthetic(count: 10_000_000, listed: [TestCRLEntry(serial: card.serialNumber, revokedAt: now - 60, reason: .keyCompromise)], to: path)
        let crl = try CertificateRevocationList.load(contentsOf: path, issuer: pki.root)
        #expect(crl.entries.count == 10_000_001)
        #expect(crl.entries.entry(forSerial: card.serialNumber)?.reason == .keyCompromise)
        do {
            _ = try CertificateRevocationList.load(contentsOf: path, issuer: pki.root, limits: CRLLimits(maximumEntries: 1_000_000))
            Issue.record("the entry limit was not applied")
        } catch { #expect(error.code == .tooLarge) }
        do {
            _ = try CertificateRevocationList.load(contentsOf: path, issuer: pki.root, limits: CRLLimits(maximumBytes: 1 << 20))
            Issue.record("the size limit was not applied")
        } catch { #expect(error.code == .tooLarge) }
    }
}
