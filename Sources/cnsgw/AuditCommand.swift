import ArgumentParser
import Foundation
import GatewayAudit
import GatewayStorage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check and export the hash-chained audit log.",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that no audit record was altered, removed or reordered (exit 1 if one was).")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let records = try await data.openStorage().auditRecords(since: nil, limit: nil)
            switch AuditLog.verify(records) {
            case .intact(let count, let first):
                let retention = (first ?? 1) > 1 ? " (records before \(first!) were removed by retention)" : ""
                print("audit log intact: \(count) records\(retention)")
            case .broken(let sequence, let reason):
                print("AUDIT LOG BROKEN at record \(sequence): \(reason)")
                throw ExitCode(1)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit records as JSON lines or CSV.")
        @Option(help: "Only records from this time on (ISO 8601).") var since: String?
        @Option(help: "jsonl (default) or csv.") var format = AuditLog.ExportFormat.jsonl.rawValue
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            guard let format = AuditLog.ExportFormat(rawValue: format) else { throw UsageError("--format must be jsonl or csv") }
            let from = try since.map(VerifyCommand.parseTime)
            let records = try await data.openStorage().auditRecords(since: from, limit: nil)
            print(AuditLog.export(records, format: format), terminator: "")
        }
    }
}
