import ArgumentParser
import Foundation
import GatewayAudit
import GatewayStorage
import GatewayStoragePostgres
import GatewayStorageSQLite
import KeyProtection

/// `cnsgw storage migrate`: from the embedded default to the PostgreSQL database several instances share.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Move the gateway's records between databases.",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an embedded SQLite database (CAs, registrations, keys, sessions, logins in progress, the audit log) into PostgreSQL.",
            discussion: """
            Stop the gateway first. Every record is copied as it is: private keys stay encrypted under the same \
            key-encryption key (the source's keys.kek, or $CNSGW_KEYS_ENCRYPTION_KEY), which every instance on the \
            target then needs, and the audit records keep their sequence and hashes, so `cnsgw audit verify` passes on \
            the copy. The copy is one transaction. A target that already holds records is refused unless --replace.
            """)
        @Option(help: "The source: sqlite:PATH (the data folder's cnsgw.sqlite).") var from: String
        @Option(help: "The target: postgres://USER[:PASSWORD]@HOST:PORT/DATABASE?sslmode=… (the password may come from $CNSGW_STORAGE_PASSWORD_FILE).")
        var to: String
        @Flag(help: "Empty the target's tables first (its records are lost).") var replace = false
        @Option(help: "The source's key-encryption key file; default keys.kek beside the database ($CNSGW_KEYS_ENCRYPTION_KEY wins).")
        var keysEncryptionKeyFile: String?

        func run() async throws {
            guard from.hasPrefix("sqlite:") else { throw UsageError("--from must be sqlite:PATH (the embedded default's cnsgw.sqlite)") }
            let path = String(from.dropFirst("sqlite:".count))
            guard FileManager.default.fileExists(atPath: path) else { throw UsageError("--from: \(path) does not exist") }
            let source: SQLiteGatewayStorage
            let target: PostgresGatewayStorage
            do {
                source = try SQLiteGatewayStorage(path: path)
                let passwordFile = ProcessInfo.processInfo.environment["CNSGW_STORAGE_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 }
                target = try await PostgresGatewayStorage(settings: PostgresStorageSettings(url: to, passwordFile: passwordFile))
            } catch let e as StorageError {
                throw UsageError("cnsgw storage migrate: \(e.detail)")
            }
            defer { target.close() }
            // The key that opens the source's sealed keys must open the copies: checked before anything is written.
            let kekFile = keysEncryptionKeyFile ?? ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("keys.kek")
            let kek: KeyEncryptionKey
            do {
                kek = try KeyEncryptionKey.load(base64: ProcessInfo.processInfo.environment["CNSGW_KEYS_ENCRYPTION_KEY"], file: kekFile, mayCreate: false)
                _ = try await SealedKeyStorage(source, kek: kek).verifyAndSealAll()
            } catch let failure as KeyEncryptionKey.Failure {
                throw UsageError("cnsgw storage migrate: \(failure.detail)")
            }
            let targetIsEmpty = try await target.holdsNoRecords()
            guard replace || targetIsEmpty else {
                throw UsageError("cnsgw storage migrate: the target database already holds gateway records; nothing was copied "
                                 + "(--replace empties it first, losing them)")
            }
            let batches = try await StorageCopy.export(source)
            let audit = batches.first { $0.table == AuditRecord.table }!
            let records = try await source.auditRecords(since: nil, limit: nil)
            if case .broken(let sequence, let reason) = AuditLog.verify(records) {
                throw UsageError("cnsgw storage migrate: the source's audit log is broken at record \(sequence) (\(reason)); nothing was copied")
            }
            try await target.importRows(batches, replacing: replace)
            // Read back what was written: the chain verifies on the target and the keys open with the same key.
            let copied = try await target.auditRecords(since: nil, limit: nil)
            guard copied == records, case .intact = AuditLog.verify(copied) else {
                throw UsageError("cnsgw storage migrate: the copied audit log differs from the source's; check the target database")
            }
            _ = try await SealedKeyStorage(target, kek: kek).verifyAndSealAll()
            for batch in batches where !batch.rows.isEmpty { print("\(batch.table): \(batch.rows.count)") }
            print("copied into \(target.settings.description); audit log intact: \(audit.rows.count) records")
            print("every instance on it needs the same key-encryption key as \(kekFile) (CNSGW_KEYS_ENCRYPTION_KEY=$(base64 -w0 \(kekFile)))")
        }
    }
}
