import CNSValidation
import Foundation

/// Renders a ``VerificationReport`` for people (a few lines) or scripts (one JSON object).
enum ReportFormatter {
    static func json(_ report: VerificationReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? String(decoding: encoder.encode(report), as: UTF8.self)) ?? #"{"valid":false,"reason":"malformed","detail":"cannot encode the report"}"#
    }

    static func text(_ r: VerificationReport) -> String {
        var lines = [r.valid ? "VALID: \(r.detail)" : "NOT VALID (\(r.reason?.rawValue ?? "?")): \(r.detail)"]
        for (i, subject) in r.chain.enumerated() { lines.append((i == 0 ? "chain:       " : "             ") + subject) }
        if let rev = r.revocation {
            lines.append("revocation:  \(rev.method.rawValue) \(rev.status.rawValue)\(rev.source.map { " from \($0)" } ?? "") — \(rev.detail)")
        }
        if let level = r.level { lines.append("level:       \(level.rawValue)") }
        if let id = r.identity {
            let name = [id.name, id.familyName].compactMap { $0 }.joined(separator: " ")
            let place = [id.placeOfBirth.name, id.placeOfBirth.province.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            lines.append("identity:    \(id.fiscalNumber) \(name)")
            lines.append("             born \(id.dateOfBirth) (\(id.gender)) in \(place.isEmpty ? "?" : place) [\(id.placeOfBirth.code)]"
                         + (id.cardId.map { ", card \($0)" } ?? ""))
        }
        if !r.legacyCrypto.isEmpty { lines.append("legacy:      \(r.legacyCrypto.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
