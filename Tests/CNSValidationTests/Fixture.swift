import CNSTestPKI
import CNSValidation
import Foundation
import ItalianIdentity
import KeyMaterial
import OutboundHTTP

/// An in-process CNS PKI at a fixed reference time: a "CA Cittadini" root and cards built on demand.
struct Fixture {
    static let referenceTime = Date(timeIntervalSince1970: 1_790_000_000)   // 2026-09-21T14:13:20Z
    static let day: TimeInterval = 86_400
    static let rootKey = try! PrivateKey(.rsa2048)

    let root: X509Certificate
    let rootKey: PrivateKey

    init(name: String = "Regione Test - CA Cittadini", extensions: [(String, String)] = TestPKI.caProfile, key: PrivateKey = Fixture.rootKey) throws {
        rootKey = key
        root = try CertificateBuilder(
            subject: [("C", "IT"), ("O", "Test PKI"), ("CN", name)], serial: TestPKI.randomSerial(),
            notBefore: Self.referenceTime - 365 * Self.day, notAfter: Self.referenceTime + 3650 * Self.day, extensions: extensions
        ).build(key: key, issuer: nil, issuerKey: key)
    }

    /// A certificate issued by `issuer` (default: the root).
    func certificate(cn: String = TestPKI.cardCommonName(codiceFiscale: "RCCMNL83S18D969H"), key: PrivateKey? = nil,
                     extensions: [(String, String)] = TestPKI.cardProfile(crlURL: nil, ocspURL: nil),
                     notBefore: Date = Fixture.referenceTime - 30 * Fixture.day, notAfter: Date = Fixture.referenceTime + 365 * Fixture.day,
                     issuer: (X509Certificate, PrivateKey)? = nil, digest: String = "sha256", serial: [UInt8] = TestPKI.randomSerial(),
                     extraSubject: [(String, String)] = [("SN", "ROSSI"), ("GN", "MARIO")]) throws -> X509Certificate {
        var builder = CertificateBuilder(subject: [("C", "IT"), ("O", "Test PKI")] + extraSubject + [("CN", cn)], serial: serial,
                                             notBefore: notBefore, notAfter: notAfter, extensions: extensions)
        builder.digest = digest
        let (issuerCert, issuerKey) = issuer ?? (root, rootKey)
        return try builder.build(key: key ?? Self.cardKey, issuer: issuerCert, issuerKey: issuerKey)
    }

    static let cardKey = try! PrivateKey(.rsa2048)

    func trustStore(_ policy: AnchorPolicy = AnchorPolicy(revocation: RevocationPolicy(order: .none))) throws -> TrustStore {
        try TrustStore(anchors: [TrustAnchor(certificate: root, policy: policy)])
    }

    func verifier(_ store: TrustStore, crlFiles: [String] = [], now: Date = Fixture.referenceTime) -> CNSVerifier {
        let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
        var v = CNSVerifier(trustStore: store,
                            revocation: RevocationChecker(crlStore: CRLStore(configuration: .init(), transport: transport),
                                                          ocsp: OCSPClient(transport: transport), now: { now }),
                            identityMapper: CNSSubjectMapper(registry: try? BelfioreRegistry.bundled()))
        v.revocationOptions = .init(crlFiles: crlFiles, offline: true)
        return v
    }

    func verify(_ leaf: X509Certificate, intermediates: [X509Certificate] = [], policy: AnchorPolicy = AnchorPolicy(revocation: RevocationPolicy(order: .none)),
                crlFiles: [String] = [], at time: Date = Fixture.referenceTime, now: Date? = nil) async throws -> VerificationReport {
        await verifier(try trustStore(policy), crlFiles: crlFiles, now: now ?? time).verify(leaf: leaf, intermediates: intermediates, at: time)
    }

    /// Writes bytes to a fresh temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8], suffix: String = ".der") -> String {
        let path = NSTemporaryDirectory() + "cnsgw-test-\(UUID().uuidString)\(suffix)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
