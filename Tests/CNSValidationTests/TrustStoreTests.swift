import CNSTestPKI
import CNSValidation
import Foundation
import KeyMaterial
import Testing

@Suite struct TrustStoreTests {
    static let folder = SharedData.path("cns-ca-2018")

    /// Expiry dates read independently from the corpus's INDEX.md validity column ("2013-03-06 → 2023-03-06").
    static func indexExpiries() throws -> [String: String] {
        let text = try String(contentsOfFile: folder + "/INDEX.md", encoding: .utf8)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| CN=") || line.hasPrefix("| C=") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 9, let arrow = cells[2].range(of: "→") else { continue }
            out[cells[8].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[2][arrow.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    @Test("all 100 real CNS CA certificates load as anchors; how many are expired today")
    func realCNSAnchors() throws {
        let store = try TrustStore.load(anchorPaths: [Self.folder])
        #expect(store.anchors.count == 100)
        let fixedDay = ISO8601DateFormatter().date(from: "2026-11-30T00:00:00Z")!
        let expired = store.expiredAnchors(at: fixedDay)
        let expectedExpired = try Self.indexExpiries().values.filter { $0 < "2026-11-30" }.count
        #expect(expired.count == expectedExpired)
        print("real CNS anchors: \(store.anchors.count) loaded, \(expired.count) expired on 2026-11-30, \(store.expiredAnchors(at: Date()).count) expired today")
        // Legacy: SHA-1 self-signatures and RSA-2048/4096 keys, none under 2048 bits.
        #expect(store.anchors.contains { $0.certificate.usesSHA1Signature })
        #expect(store.anchors.allSatisfy { $0.certificate.publicKeyBits >= 2048 })
        #expect(store.anchors.contains { $0.certificate.policies.contains("1.3.76.47.1") })
    }

    @Test("a certificate that is not a CA cannot be an anchor")
    func nonCAAnchor() throws {
        let pki = try Fixture()
        let leaf = try pki.certificate()
        #expect(throws: CertificateLoadError.self) { try TrustStore(anchors: [TrustAnchor(certificate: leaf, policy: AnchorPolicy())]) }
    }

    @Test("bad certificate input gets its own reason and nothing crashes")
    func badInput() throws {
        let good = try Fixture().certificate()
        func code(_ bytes: [UInt8]) -> CertificateLoadError.Code? {
            do { _ = try CertificateLoader.certificates(from: bytes); return nil } catch let e as CertificateLoadError { return e.code } catch { return nil }
        }
        #expect(code([]) == .empty)
        #expect(code(Array(good.derBytes.prefix(good.derBytes.count / 2))) == .malformed)
        #expect(code([0x30, 0x82, 0xFF, 0xFF, 0x00]) == .malformed)
        #expect(code(Array("hello world, not a certificate".utf8)) == .malformed)
        #expect(code(Array("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n".utf8)) == .malformed)
        #expect(code(Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)) == .empty)
        let pem = good.pem
        #expect(code(Array(pem.prefix(pem.count - 40).utf8)) == .malformed)
        for _ in 0..<200 {
            var fuzzed = good.derBytes
            fuzzed[Int.random(in: 0..<fuzzed.count)] = UInt8.random(in: 0...255)
            _ = code(fuzzed)   // must not crash, whatever it decides
        }
        let huge = Fixture.temporaryFile([UInt8](repeating: 0x41, count: CertificateLoader.maximumFileSize + 1), suffix: ".pem")
        defer { try? FileManager.default.removeItem(atPath: huge) }
        #expect(throws: CertificateLoadError(.tooLarge, "")) { try CertificateLoader.certificates(atPath: huge) }
        #expect(throws: CertificateLoadError(.unreadable, "")) { try CertificateLoader.certificates(atPath: "/nonexistent/ca.pem") }
    }
}
