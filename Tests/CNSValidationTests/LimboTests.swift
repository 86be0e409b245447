import CNSTestPKI
import CNSTestSupport
import CNSValidation
import Foundation
import OutboundHTTP
import Testing

/// Runs the x509-limbo RFC 5280 subsets through the library: TrustStore.validatePath for the path and the
/// RevocationChecker (CRL only, fail closed, clock at the case's validation time) when the case carries CRLs.
@Suite struct LimboTests {
    typealias Case = LimboCase

    /// Cases whose verdict differs from x509-limbo's expectation, each with the reason it is not fixed (shared with the
    /// CLI's run of the corpus, Tests/CNSGatewayCLITests/VerifyLimboTests.swift).
    static let knownDifferences = LimboKnownDifferences.all

    static func run(_ c: Case) async -> (passed: Bool, detail: String) {
        do {
            let anchors = try c.trusted_certs.flatMap { try CertificateLoader.certificates(from: Array($0.utf8)) }
            let intermediates = try c.untrusted_intermediates.flatMap { try CertificateLoader.certificates(from: Array($0.utf8)) }
            let peer = try CertificateLoader.certificates(from: Array(c.peer_certificate.utf8))[0]
            let store = try TrustStore(anchors: anchors.map { TrustAnchor(certificate: $0, policy: AnchorPolicy(acceptedPolicies: [])) })
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let time = c.validation_time.flatMap { ISO8601DateFormatter().date(from: $0) ?? fractional.date(from: $0) } ?? Date()
            let eku: String? = c.extended_key_usage.contains("serverAuth") ? PathValidationOptions.serverAuth
                : c.extended_key_usage.contains("clientAuth") ? PathValidationOptions.clientAuth : nil
            let options = PathValidationOptions(time: time, requiredExtendedKeyUsage: eku, maximumDepth: c.max_chain_depth)
            var verdict = "SUCCESS"
            var detail = "valid"
            switch store.validatePath(leaf: peer, untrusted: intermediates, options: options) {
            case .invalid(let reason, let d): verdict = "FAILURE"; detail = "\(reason.rawValue): \(d)"
            case .valid(let path):
                if c.key_usage.contains("digitalSignature"), let ku = peer.keyUsage, ku & 0x80 == 0 {
                    verdict = "FAILURE"; detail = "key usage lacks digitalSignature"
                } else if !c.crls.isEmpty, path.count >= 2 {
                    let folder = NSTemporaryDirectory() + "limbo-\(UUID().uuidString)"
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(atPath: folder) }
                    let files = try c.crls.enumerated().map { i, pem -> String in
                        let f = "\(folder)/\(i).pem"
                        try pem.write(toFile: f, atomically: true, encoding: .utf8)
                        return f
                    }
                    let crlStore = CRLStore(configuration: .init(), transport: GuardedHTTPTransport(allowPrivateAddresses: true))
                    let checker = RevocationChecker(crlStore: crlStore, ocsp: OCSPClient(transport: GuardedHTTPTransport(allowPrivateAddresses: true)), now: { time })
                    let result = await checker.check(peer, issuer: path[1], policy: RevocationPolicy(order: .crlOnly), validationTime: time,
                                                     options: .init(crlFiles: files, offline: true))
                    if result.status != .good { verdict = "FAILURE" }
                    detail = "revocation \(result.status.rawValue): \(result.detail)"
                }
            }
            return (verdict == c.expected_result, detail)
        } catch {
            return (c.expected_result == "FAILURE", "load error: \(error)")
        }
    }

    @Test("x509-limbo RFC 5280 subsets (path-only + CRL): pass rate, and every miss is a known, explained difference")
    func limboCorpus() async throws {
        let cases = try LimboCase.load(SharedData.path("x509-limbo/limbo-path-only.json"))
        #expect(cases.count > 150)
        var failures: [(String, String)] = []
        for c in cases {
            let (passed, detail) = await Self.run(c)
            if !passed { failures.append((c.id, "expected \(c.expected_result); \(detail)")) }
        }
        let passed = cases.count - failures.count
        print("x509-limbo: \(passed)/\(cases.count) passed (\(String(format: "%.1f", 100.0 * Double(passed) / Double(cases.count)))%)")
        let rfc = cases.filter { !$0.id.hasPrefix("webpki::") }
        let rfcMisses = failures.filter { !$0.0.hasPrefix("webpki::") }.count
        print("x509-limbo RFC 5280 groups: \(rfc.count - rfcMisses)/\(rfc.count) passed; webpki: \(cases.count - rfc.count - (failures.count - rfcMisses))/\(cases.count - rfc.count)")
        for (id, detail) in failures { print("  limbo miss \(id): \(detail)") }
        let unexplained = failures.filter { Self.knownDifferences[$0.0] == nil }
        #expect(unexplained.isEmpty, "unexplained limbo misses: \(unexplained.map(\.0))")
        let nowPassing = Self.knownDifferences.keys.filter { id in !failures.contains { $0.0 == id } }
        #expect(nowPassing.isEmpty, "listed as known differences but now pass: \(nowPassing)")
    }
}
