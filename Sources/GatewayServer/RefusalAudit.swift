import Foundation
import GatewayAudit
import Metrics

/// Audit records for refused *unauthenticated* requests (garbage SAML and OIDC requests, unbound continuations,
/// rate-limited requests), at most `perMinute` a minute: a flood must not grow the audit log without bound. Past the
/// budget a refusal is counted (`cnsgw_audit_refusals_suppressed_total`) and the next record written says how many
/// were left out (`suppressed`). Decisions about cards and issued assertions and tokens never go through here: they
/// are always audited.
public actor RefusalAudit {
    let audit: AuditLog
    let perMinute: Int
    let now: @Sendable () -> Date
    private var windowStart = Date.distantPast
    private var written = 0
    private var suppressed = 0

    public init(audit: AuditLog, perMinute: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        self.audit = audit
        self.perMinute = perMinute
        self.now = now
    }

    public func append(kind: String, fields: [String: String]) async throws {
        let t = now()
        if t.timeIntervalSince(windowStart) >= 60 {
            windowStart = t
            written = 0
        }
        guard written < perMinute else {
            suppressed += 1
            Counter(label: "cnsgw_audit_refusals_suppressed_total", dimensions: [("kind", kind)]).increment()
            return
        }
        written += 1
        var fields = fields
        if suppressed > 0 {
            fields["suppressed"] = "\(suppressed)"
            suppressed = 0
        }
        try await audit.append(kind: kind, fields: fields)
    }
}
