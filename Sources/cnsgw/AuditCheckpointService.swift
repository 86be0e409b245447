import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import ServiceLifecycle

/// Signs the audit chain's head every `interval` seconds (when it moved) and at shutdown with the gateway's active ES256 key and
/// appends the checkpoint to a file outside the database and to the log, so that cutting off the newest audit
/// records is detectable (`cnsgw audit verify --checkpoint FILE`).
struct AuditCheckpointService: Service {
    let storage: any GatewayStorage
    let file: String
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await periodically(every: interval, waitFirst: true) {
            do { try await checkpoint() } catch { logger.error("audit checkpoint failed", metadata: ["error": "\(error)"]) }
        }
        // One more when the gateway stops, so the file names the last record this process wrote.
        do { try await checkpoint() } catch { logger.error("audit checkpoint failed", metadata: ["error": "\(error)"]) }
    }

    func checkpoint() async throws {
        guard let head = try await storage.lastAuditRecord() else { return }
        if let last = Self.lastCheckpoint(in: file), last.sequence == head.sequence, last.hash == head.hash { return }
        guard let key = try await storage.signingKeys(use: "oidc").last(where: { $0.state == .active && $0.algorithm == "ES256" }) else {
            throw AuditCheckpointError(description: "no active ES256 key to sign the checkpoint with")
        }
        let checkpoint = try AuditCheckpoint.sign(head, keyID: key.id, privateKeyPEM: key.privateKeyPEM, now: Date())
        let line = try checkpoint.line() + "\n"
        if !FileManager.default.fileExists(atPath: file) {
            guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw AuditCheckpointError(description: "cannot create \(file)")
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        logger.notice("audit checkpoint", metadata: ["sequence": "\(checkpoint.sequence)", "hash": "\(checkpoint.hash)", "key": "\(checkpoint.keyID)",
                                                     "signature": "\(checkpoint.signature)"])
    }

    /// The newest checkpoint in `file`, if any.
    static func lastCheckpoint(in file: String) -> AuditCheckpoint? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last.flatMap { try? AuditCheckpoint.parse(line: String($0)) }
    }
}

struct AuditCheckpointError: Error, CustomStringConvertible {
    let description: String
}
