import Foundation
import KeyMaterial

/// Verified OCSP answers, kept until their `nextUpdate` (and a while after, for soft-fail staleness).
actor OCSPCache {
    private var answers: [String: OCSPAnswer] = [:]
    private let fallbackLifetime: TimeInterval

    init(fallbackLifetime: TimeInterval = 300) {
        self.fallbackLifetime = fallbackLifetime
    }

    static func key(_ cert: X509Certificate, _ issuer: X509Certificate) -> String {
        Digest.hex(issuer.sha256Fingerprint) + ":" + cert.serialHex
    }

    /// The cached answer and whether it is still fresh at `now`.
    func answer(for key: String, now: Date) -> (OCSPAnswer, fresh: Bool)? {
        guard let a = answers[key] else { return nil }
        let expiry = a.nextUpdate ?? a.thisUpdate.addingTimeInterval(fallbackLifetime)
        return (a, now < expiry)
    }

    func store(_ answer: OCSPAnswer, for key: String) {
        answers[key] = answer
        if answers.count > 200_000 { answers.removeAll(keepingCapacity: true) }   // bound memory under abuse
    }
}
