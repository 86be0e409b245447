import CoreMetrics
import Foundation
@testable import GatewayServer
import KeyMaterial
import Prometheus
import Testing

/// The per-process memories the card step relies on: the bounded memo under them, requester host names, and the
/// metrics backend that hands out each series' handler once.
@Suite struct CardStepCachesTests {
    struct Refused: Error {}

    @Test func aMemoMakesEachValueOnceAndStaysBounded() throws {
        let memo = BoundedMemo<Int, String>(capacity: 4)
        var made = 0
        #expect(memo.value(for: 1) { made += 1; return "one" } == "one")
        #expect(memo.value(for: 1) { made += 1; return "other" } == "one")
        #expect(made == 1)
        for n in 2..<40 { #expect(memo.value(for: n) { "\(n)" } == "\(n)") }
        #expect(memo.count <= 4)
        // What `make` throws reaches the caller, and nothing is remembered for it.
        #expect(throws: Refused.self) { try memo.value(for: 99) { throw Refused() } }
        #expect(memo.value(for: 99) { "made" } == "made")
        memo.forget { $0 == "made" }
        #expect(memo.value(for: 99) { "again" } == "again")
        // Capacity 0 remembers nothing.
        let off = BoundedMemo<Int, Int>(capacity: 0)
        var calls = 0
        for _ in 0..<3 { _ = off.value(for: 1) { calls += 1; return calls } }
        #expect(calls == 3 && off.count == 0)
    }

    @Test func certificateKeysAreTheWholeDER() {
        let der: [UInt8] = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var changedAtEnd = der
        changedAtEnd[der.count - 1] ^= 1
        var memo: [DERKey: Int] = [DERKey(bytes: der): 1, DERKey(bytes: changedAtEnd): 2, DERKey(bytes: Array(der.dropLast())): 3]
        #expect(memo.count == 3)
        #expect(memo[DERKey(bytes: Array(der))] == 1)
        #expect(memo[DERKey(bytes: changedAtEnd)] == 2)
        #expect(DERKey(bytes: der).hashValue == DERKey(bytes: Array(der)).hashValue)
        memo[DERKey(bytes: der)] = nil
        #expect(memo[DERKey(bytes: der)] == nil && memo.count == 2)
    }

    /// A self-signed certificate made now, as DER.
    static func certificateDER(_ name: String) throws -> [UInt8] {
        let key = try PrivateKey(.p256)
        return try CertificateBuilder(subject: [("CN", name)], serial: CertificateBuilder.randomSerial(), notBefore: Date() - 60,
                                      notAfter: Date() + 86_400, extensions: []).build(key: key, issuer: nil, issuerKey: key).derBytes
    }

    @Test func theCertificateCacheParsesEachCardOnceAndRefusesATruncatedOne() throws {
        let first = try Self.certificateDER("card one"), second = try Self.certificateDER("card two")

        let cache = CertificateCache(capacity: 8)
        let parsed = try cache.certificate(first)
        #expect(try cache.certificate(Array(first)) === parsed)
        #expect(try cache.certificate(second) !== parsed)
        #expect(try cache.certificate(second).subject.contains("card two"))
        var truncated = first
        truncated.removeLast(10)
        #expect(throws: (any Error).self) { try cache.certificate(truncated) }

        let off = CertificateCache(capacity: 0)
        #expect(try off.certificate(first) !== off.certificate(first))
    }

    @Test func hostNamesAreTheRequestersHostsAndStayBounded() {
        let names = RequesterHostNames(capacity: 4)
        #expect(names.name(of: "https://sp.comune.example.it/saml/metadata") == "sp.comune.example.it")
        #expect(names.name(of: "https://sp.comune.example.it/saml/metadata") == "sp.comune.example.it")
        #expect(names.name(of: "https://xn--citt-3na.example.it/sp") == "città.example.it")
        #expect(names.name(of: "urn:example:not-a-host") == "urn:example:not-a-host")
        for n in 0..<20 { #expect(names.name(of: "https://sp\(n).example.it/") == "sp\(n).example.it") }
        #expect(names.remembered <= 4)
    }

    @Test func theMetricsBackendHandsOutOneHandlerPerSeries() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricHandlerCache(PrometheusMetricsFactory(registry: registry))
        let valid = factory.makeCounter(label: "cnsgw_logins_total", dimensions: [("result", "valid"), ("reason", "none")])
        #expect(factory.makeCounter(label: "cnsgw_logins_total", dimensions: [("result", "valid"), ("reason", "none")]) === valid)
        let refused = factory.makeCounter(label: "cnsgw_logins_total", dimensions: [("result", "refused"), ("reason", "revoked")])
        #expect(refused !== valid)
        valid.increment(by: 2)
        refused.increment(by: 1)
        let timer = factory.makeTimer(label: "cnsgw_card_validation_duration_seconds", dimensions: [])
        #expect(factory.makeTimer(label: "cnsgw_card_validation_duration_seconds", dimensions: []) === timer)
        timer.recordNanoseconds(1_000_000)
        // The counts reach the backend's series as before.
        let text = registry.emitToString()
        #expect(text.contains(#"cnsgw_logins_total{result="valid",reason="none"} 2"#), "\(text)")
        #expect(text.contains(#"cnsgw_logins_total{result="refused",reason="revoked"} 1"#), "\(text)")
        #expect(text.contains("cnsgw_card_validation_duration_seconds_count 1"), "\(text)")
        // A destroyed handler is forgotten: the next one is made anew.
        factory.destroyCounter(refused)
        #expect(factory.makeCounter(label: "cnsgw_logins_total", dimensions: [("result", "refused"), ("reason", "revoked")]) !== refused)
    }
}
