import Foundation

/// What the gateway knows of each OCSP responder it has asked, for `cnsgw crl status` and the operator.
public struct OCSPResponderStatus: Sendable, Codable, Hashable {
    public var responder: String
    public var queries: Int
    public var failures: Int
    /// The last verified answer: when it came and the validity it gave.
    public var lastSuccess: Date?
    public var lastThisUpdate: Date?
    public var lastNextUpdate: Date?
    /// Milliseconds the last query took, answered or not.
    public var lastLatencyMilliseconds: Int?
    public var lastError: String?
    public var lastErrorAt: Date?
    /// The last query failed.
    public var failing: Bool = false
}

/// Records every OCSP query's outcome per responder.
actor OCSPResponderLedger {
    private var entries: [String: OCSPResponderStatus] = [:]

    func record(responder: String, at now: Date, latency: TimeInterval, answer: OCSPAnswer?, error: String?) {
        var entry = entries[responder] ?? OCSPResponderStatus(responder: responder, queries: 0, failures: 0)
        entry.queries += 1
        entry.lastLatencyMilliseconds = Int((latency * 1000).rounded())
        if let answer {
            entry.lastSuccess = now
            entry.lastThisUpdate = answer.thisUpdate
            entry.lastNextUpdate = answer.nextUpdate
        }
        entry.failing = error != nil
        if let error {
            entry.failures += 1
            entry.lastError = error
            entry.lastErrorAt = now
        }
        entries[responder] = entry
    }

    func all() -> [OCSPResponderStatus] { entries.values.sorted { $0.responder < $1.responder } }
}
