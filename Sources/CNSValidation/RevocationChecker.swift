import Foundation
import KeyMaterial
import Logging
import Metrics

/// Decides the revocation status of a certificate per its anchor's ``RevocationPolicy``: OCSP and CRL, in the
/// policy's order, fail closed unless the policy allows bounded soft-fail. Never downloads a CRL per login:
/// CRLs come from the ``CRLStore``, which downloads each source once and refreshes it in the background.
public struct RevocationChecker: Sendable {
    public let crlStore: CRLStore
    public let ocsp: OCSPClient
    let ocspCache = OCSPCache()
    let ocspLedger = OCSPResponderLedger()

    /// Every OCSP responder asked so far, with its last answer and last error.
    public func ocspStatus() async -> [OCSPResponderStatus] { await ocspLedger.all() }
    public let now: @Sendable () -> Date
    public let logger: Logger

    public init(crlStore: CRLStore, ocsp: OCSPClient, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "cnsgw.revocation")) {
        self.crlStore = crlStore
        self.ocsp = ocsp
        self.now = now
        self.logger = logger
    }

    /// Per-call options (the CLI's `--crl`, `--ocsp`, `--offline`).
    public struct Options: Sendable {
        /// CRL files (or URLs) tried before any other CRL source.
        public var crlFiles: [String] = []
        /// Overrides every responder (policy and AIA).
        public var ocspResponder: String?
        /// Never touch the network: only given files and cached answers.
        public var offline = false
        public init(crlFiles: [String] = [], ocspResponder: String? = nil, offline: Bool = false) {
            self.crlFiles = crlFiles
            self.ocspResponder = ocspResponder
            self.offline = offline
        }
    }

    /// The status of `certificate` (issued by `issuer`) at `validationTime`.
    public func check(_ certificate: X509Certificate, issuer: X509Certificate, policy: RevocationPolicy,
                      validationTime: Date, options: Options = Options()) async -> RevocationResult {
        if policy.order == .none {
            return RevocationResult(method: .none, status: .notChecked, source: nil, detail: "the anchor's policy checks no revocation")
        }
        var failures: [String] = []
        var stale: RevocationResult?
        let useOCSP = policy.order != .crlOnly
        let useCRL = policy.order != .ocspOnly
        // Given CRL files come first: the admin (or the CLI user) handed them over on purpose.
        if useCRL, !options.crlFiles.isEmpty,
           let decided = await viaCRL(certificate, issuer, sources: options.crlFiles, policy, validationTime, options, &failures, &stale) {
            return decided
        }
        if useOCSP, let decided = await viaOCSP(certificate, issuer, policy, validationTime, options, &failures, &stale) {
            return decided
        }
        if useCRL {
            let sources = policy.crlSources + certificate.crlDistributionPoints.filter { CRLStore.isRemote($0) }
            if let decided = await viaCRL(certificate, issuer, sources: sources, policy, validationTime, options, &failures, &stale) {
                return decided
            }
        }
        if let stale { return stale }
        if failures.isEmpty { failures.append("the certificate names no OCSP responder or CRL distribution point and none is configured") }
        return RevocationResult(method: .none, status: .unknown, source: nil,
                                detail: "revocation status cannot be established: " + failures.joined(separator: "; "))
    }

    private func viaOCSP(_ cert: X509Certificate, _ issuer: X509Certificate, _ policy: RevocationPolicy, _ time: Date,
                         _ options: Options, _ failures: inout [String], _ stale: inout RevocationResult?) async -> RevocationResult? {
        guard let responder = options.ocspResponder ?? policy.ocspResponder
                ?? cert.ocspResponders.first(where: { CRLStore.isRemote($0) }) else { return nil }
        let key = OCSPCache.key(cert, issuer)
        let current = now()
        let cached = await ocspCache.answer(for: key, now: current)
        if let (answer, fresh) = cached, fresh {
            return decide(answer, time, stale: false, cached: true)
        }
        guard !options.offline else {
            failures.append("OCSP \(responder): offline and no fresh cached answer")
            return staleOCSP(cached?.0, policy, current, &stale)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { Timer(label: "cnsgw_ocsp_duration_seconds").recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        do {
            let answer = try await ocsp.query(certificate: cert, issuer: issuer, responder: responder, nonce: policy.ocspNonce,
                                              timeout: policy.networkTimeout, now: current)
            await ocspCache.store(answer, for: key)
            await ocspLedger.record(responder: responder, at: current, latency: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                    answer: answer, error: nil)
            if case .unknown = answer.status {
                failures.append("OCSP \(responder) does not know the certificate")
                return nil
            }
            return decide(answer, time, stale: false, cached: false)
        } catch {
            Counter(label: "cnsgw_ocsp_errors_total", dimensions: [("kind", error.code.rawValue)]).increment()
            logger.warning("OCSP query failed", metadata: ["responder": "\(responder)", "error": "\(error.detail)", "serial": "\(cert.serialHex)"])
            failures.append(error.detail)
            await ocspLedger.record(responder: responder, at: current, latency: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                    answer: nil, error: error.detail)
            return staleOCSP(cached?.0, policy, current, &stale)
        }
    }

    private func staleOCSP(_ answer: OCSPAnswer?, _ policy: RevocationPolicy, _ now: Date, _ stale: inout RevocationResult?) -> RevocationResult? {
        guard let answer, let maxStale = policy.softFailMaxStaleness else { return nil }
        let expiry = answer.nextUpdate ?? answer.thisUpdate
        guard now.timeIntervalSince(expiry) <= maxStale, stale == nil else { return nil }
        if case .unknown = answer.status { return nil }
        stale = decide(answer, now, stale: true, cached: true)
        return nil
    }

    private func decide(_ answer: OCSPAnswer, _ time: Date, stale: Bool, cached: Bool) -> RevocationResult {
        let note = (cached ? "cached answer" : "answer") + (stale ? " past its nextUpdate (soft-fail)" : "")
        switch answer.status {
        case .good:
            return RevocationResult(method: .ocsp, status: .good, source: answer.responder, detail: "OCSP \(note): good", stale: stale)
        case .revoked(let reason, let at):
            if at > time {
                return RevocationResult(method: .ocsp, status: .good, source: answer.responder,
                                        detail: "OCSP \(note): revoked only from \(at), after the validation time", stale: stale)
            }
            return RevocationResult(method: .ocsp, status: .revoked, source: answer.responder,
                                    detail: "OCSP \(note): revoked on \(at)" + (reason.map { " (\($0))" } ?? ""),
                                    reason: reason?.description, revokedAt: at, stale: stale)
        case .unknown:
            return RevocationResult(method: .ocsp, status: .unknown, source: answer.responder, detail: "OCSP \(note): unknown certificate", stale: stale)
        }
    }

    private func viaCRL(_ cert: X509Certificate, _ issuer: X509Certificate, sources: [String], _ policy: RevocationPolicy, _ time: Date,
                        _ options: Options, _ failures: inout [String], _ stale: inout RevocationResult?) async -> RevocationResult? {
        let current = now()
        for source in sources {
            let result = await crlStore.crl(source: source, issuer: issuer, network: !options.offline)
            let crl: CertificateRevocationList
            switch result {
            case .failure(let error):
                if error.code != .issuerMismatch || !options.crlFiles.contains(source) { failures.append(error.detail) }
                continue
            case .success(let c): crl = c
            }
            if crl.isDelta { failures.append("\(source) is a delta CRL; a complete CRL is needed first"); continue }
            if let scopeProblem = scopeMismatch(crl, cert) { failures.append("\(source): \(scopeProblem)"); continue }
            let fresh = crl.isFresh(at: current)
            if !fresh {
                let expiry = crl.nextUpdate ?? crl.thisUpdate
                failures.append("the CRL from \(source) " + (crl.thisUpdate > current ? "is not valid before \(crl.thisUpdate)" : "expired at \(expiry)"))
                if let maxStale = policy.softFailMaxStaleness, crl.thisUpdate <= current,
                   current.timeIntervalSince(expiry) <= maxStale, stale == nil {
                    stale = await lookup(cert, issuer, crl, source: source, time, stale: true, network: !options.offline)
                }
                continue
            }
            return await lookup(cert, issuer, crl, source: source, time, stale: false, network: !options.offline)
        }
        return nil
    }

    /// RFC 5280 §6.3.3 (b): a CRL with an issuing distribution point covers only what it says it covers.
    private func scopeMismatch(_ crl: CertificateRevocationList, _ cert: X509Certificate) -> String? {
        if crl.onlyContainsUserCertificates && cert.isCA { return "the CRL covers only end-entity certificates" }
        if crl.onlyContainsCACertificates && !cert.isCA { return "the CRL covers only CA certificates" }
        if !crl.distributionPointURIs.isEmpty, !cert.crlDistributionPoints.isEmpty,
           Set(crl.distributionPointURIs).isDisjoint(with: cert.crlDistributionPoints) {
            return "the CRL's distribution point does not match the certificate's"
        }
        return nil
    }

    private func lookup(_ cert: X509Certificate, _ issuer: X509Certificate, _ crl: CertificateRevocationList, source: String,
                        _ time: Date, stale: Bool, network: Bool) async -> RevocationResult {
        var entry = crl.entries.entry(forSerial: cert.serialNumber)
        var decidedBy = source
        // A delta CRL, when the issuer publishes one, overrides the base for the entries it lists.
        for deltaURL in crl.freshestCRLURIs where CRLStore.isRemote(deltaURL) {
            guard case .success(let delta) = await crlStore.crl(source: deltaURL, issuer: issuer, network: network),
                  delta.isFresh(at: now()), let base = delta.deltaBaseCRLNumber, let number = crl.crlNumber,
                  compareUnsigned(base, number) <= 0 else { continue }
            if let d = delta.entries.entry(forSerial: cert.serialNumber) {
                entry = d.reason == .removeFromCRL ? nil : d
                decidedBy = deltaURL
            }
        }
        let staleNote = stale ? " (past its nextUpdate, accepted by soft-fail)" : ""
        if let entry, entry.reason != .removeFromCRL {
            let at = Date(timeIntervalSince1970: TimeInterval(entry.revocationDate))
            if at <= time {
                return RevocationResult(method: .crl, status: .revoked, source: decidedBy,
                                        detail: "listed on the CRL from \(decidedBy) since \(at)" + (entry.reason.map { " (\($0))" } ?? "") + staleNote,
                                        reason: entry.reason?.description, revokedAt: at, stale: stale)
            }
        }
        return RevocationResult(method: .crl, status: .good, source: decidedBy,
                                detail: "not on the CRL from \(decidedBy) (\(crl.entries.count) entries, next update \(crl.nextUpdate.map { "\($0)" } ?? "none"))" + staleNote,
                                stale: stale)
    }
}
