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
        static let configuration = CommandConfiguration(
            abstract: "Check that no audit record was altered, removed or reordered (exit 1 if one was).",
            discussion: "With --checkpoint, also that the log still reaches the newest signed checkpoint in FILE (the serve's audit.checkpoint_file): "
                + "records cut off at the end of the log are found that way.")
        @Option(help: "A checkpoint file written by cnsgw serve (audit.checkpoint_file).") var checkpoint: String?
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let storage = try await data.openStorage()
            let records = try await storage.auditRecords(since: nil, limit: nil)
            switch AuditLog.verify(records) {
            case .intact(let count, let first):
                let retention = (first ?? 1) > 1 ? " (records before \(first!) were removed by retention)" : ""
                print("audit log intact: \(count) records\(retention)")
            case .broken(let sequence, let reason):
                print("AUDIT LOG BROKEN at record \(sequence): \(reason)")
                throw ExitCode(1)
            }
            guard let checkpoint else { return }
            guard let text = try? String(contentsOfFile: checkpoint, encoding: .utf8) else { throw UsageError("cannot read \(checkpoint)") }
            guard let line = text.split(separator: "\n").last, let newest = try? AuditCheckpoint.parse(line: String(line)) else {
                throw UsageError("\(checkpoint) holds no checkpoint")
            }
            var known = Set<String>()
            for key in try await storage.signingKeys(use: "oidc") where key.algorithm == "ES256" {
                if let pem = try? AuditCheckpoint.publicKeyPEM(privateKeyPEM: key.privateKeyPEM) { known.insert(pem) }
            }
            switch newest.check(against: records, knownPublicKeys: known) {
            case .holds: print("checkpoint holds: record \(newest.sequence) signed at \(newest.time) by key \(newest.keyID)")
            case .badSignature: print("CHECKPOINT SIGNATURE INVALID"); throw ExitCode(1)
            case .unknownKey: print("CHECKPOINT SIGNED BY A KEY THAT IS NOT THE GATEWAY'S (\(newest.keyID))"); throw ExitCode(1)
            case .truncated(let head):
                print("AUDIT LOG TRUNCATED: the checkpoint of \(newest.time) names record \(newest.sequence), the log ends at \(head)")
                throw ExitCode(1)
            case .rewritten: print("AUDIT LOG REWRITTEN: record \(newest.sequence) no longer has the checkpointed hash"); throw ExitCode(1)
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
