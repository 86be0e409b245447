import Foundation
import GatewayStorage
import GRDB

/// A GRDB row read by index (``SQLRowReading``).
struct GRDBRowReader: SQLRowReading {
    let row: Row
    func text(_ i: Int) throws -> String? { row[i] }
    func integer(_ i: Int) throws -> Int64? { row[i] }
    func boolean(_ i: Int) throws -> Bool? { row[i] }
    func blob(_ i: Int) throws -> Data? { row[i] }
}

// Reading (and writing) every row, for `cnsgw storage migrate`.
extension SQLiteGatewayStorage: StorageRowCopying {
    public func allRecords<R: StoredRow>(_ type: R.Type) async throws -> [R] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(R.columns.joined(separator: ", ")) FROM \(R.table)").map { try R(row: GRDBRowReader(row: $0)) }
        }
    }

    public func importRows(_ batches: [RowBatch], replacing: Bool) async throws {
        try await write { db in
            if replacing { for table in StorageCopy.tables { try db.execute(sql: "DELETE FROM \(table)") } }
            for batch in batches {
                let insert = try db.makeStatement(sql: SQLText.insert(into: batch.table, batch.columns))
                for row in batch.rows {
                    try insert.execute(arguments: StatementArguments(row.map { value -> (any DatabaseValueConvertible)? in
                        switch value {
                        case .text(let v): v
                        case .integer(let v): v
                        case .boolean(let v): v
                        case .blob(let v): v
                        case .null: nil
                        }
                    }))
                }
            }
        }
    }

    public func holdsNoRecords() async throws -> Bool {
        try await read { db in
            try StorageCopy.tables.allSatisfy { try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \($0))") == false }
        }
    }
}
