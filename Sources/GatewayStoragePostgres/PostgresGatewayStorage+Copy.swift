import Foundation
import GatewayStorage
import PostgresNIO

// Reading and writing every row, for `cnsgw storage migrate`.
extension PostgresGatewayStorage: StorageRowCopying {
    public func allRecords<R: StoredRow>(_ type: R.Type) async throws -> [R] {
        try await autocommit("copy \(R.table)") { try await $0.records(R.self, where: "TRUE", []) }
    }

    /// One transaction, without the per-operation deadline's usual few seconds: a large audit log takes longer.
    public func importRows(_ batches: [RowBatch], replacing: Bool) async throws {
        try await client.withTransaction(logger: logger) { conn in
            if replacing { try await conn.run("TRUNCATE \(StorageCopy.tables.joined(separator: ", "))", []) }
            for batch in batches where !batch.rows.isEmpty {
                // Several rows per statement, within PostgreSQL's 65,535 parameters.
                let perStatement = max(1, 30_000 / batch.columns.count)
                var start = 0
                while start < batch.rows.count {
                    let chunk = batch.rows[start..<min(start + perStatement, batch.rows.count)]
                    let tuples = (0..<chunk.count).map { "(\(PostgresSQL.placeholders(batch.columns.count, from: $0 * batch.columns.count + 1)))" }
                    try await conn.run("INSERT INTO \(batch.table) (\(batch.columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))",
                                       chunk.flatMap { $0 })
                    start += chunk.count
                }
            }
        }
    }

    public func holdsNoRecords() async throws -> Bool {
        try await autocommit("emptiness check") { conn in
            for table in StorageCopy.tables where try await !conn.rows("SELECT 1 FROM \(table) LIMIT 1", []).isEmpty { return false }
            return true
        }
    }
}
