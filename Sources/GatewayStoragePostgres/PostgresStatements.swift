import Foundation
import GatewayStorage
import PostgresNIO

/// A PostgreSQL result row read by index (``SQLRowReading``).
struct PostgresRowReader: SQLRowReading, Sendable {
    let row: PostgresRandomAccessRow
    func text(_ i: Int) throws -> String? { try row[i].decode(String?.self) }
    func integer(_ i: Int) throws -> Int64? { try row[i].decode(Int64?.self) }
    func boolean(_ i: Int) throws -> Bool? { try row[i].decode(Bool?.self) }
    func blob(_ i: Int) throws -> Data? { try row[i].decode(Data?.self) }
}

extension PostgresConnection {
    /// Runs `sql` with `$1…$n` bound to `values` and collects the rows it returns.
    func rows(_ sql: String, _ values: [SQLValue]) async throws -> [PostgresRowReader] {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let v): bindings.append(v)
            case .integer(let v): bindings.append(v)
            case .boolean(let v): bindings.append(v)
            case .blob(let v): try bindings.append(v)
            case .null: bindings.appendNull()
            }
        }
        var rows: [PostgresRowReader] = []
        for try await row in try await query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: PostgresGatewayStorage.quiet) {
            rows.append(PostgresRowReader(row: row.makeRandomAccess()))
        }
        return rows
    }

    func run(_ sql: String, _ values: [SQLValue]) async throws { _ = try await rows(sql, values) }

    /// How many rows `sql` (a statement ending in `RETURNING 1`) touched.
    func count(_ sql: String, _ values: [SQLValue]) async throws -> Int { try await rows(sql, values).count }

    func records<R: StoredRow>(_ type: R.Type, where condition: String, _ values: [SQLValue], suffix: String = "") async throws -> [R] {
        try await rows(PostgresSQL.select(R.self, where: condition) + suffix, values).map { try R(row: $0) }
    }

    /// Inserts `record` unless its key exists; false when it did.
    func insertIfAbsent<R: StoredRow>(_ record: R) async throws -> Bool {
        try await count(PostgresSQL.insert(R.self) + " ON CONFLICT DO NOTHING RETURNING 1", record.values) == 1
    }
}

/// The statements of the typed tables, made from their column lists (``StoredRow``) with `$n` placeholders.
enum PostgresSQL {
    static func placeholders(_ count: Int, from first: Int = 1) -> String {
        (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ")
    }

    static func insert<R: StoredRow>(_ type: R.Type) -> String {
        "INSERT INTO \(R.table) (\(R.columns.joined(separator: ", "))) VALUES (\(placeholders(R.columns.count)))"
    }

    static func select<R: StoredRow>(_ type: R.Type, where condition: String) -> String {
        "SELECT \(R.columns.joined(separator: ", ")) FROM \(R.table) WHERE \(condition)"
    }

    /// `UPDATE table SET c1 = $1, … WHERE <condition with $n+1…>` for every column but the `fixed` ones; the values
    /// are the record's, without the fixed columns, followed by the condition's.
    static func update<R: StoredRow>(_ type: R.Type, keeping fixed: Set<String>, where condition: (Int) -> String) -> String {
        let changing = R.columns.filter { !fixed.contains($0) }
        let assignments = changing.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
        return "UPDATE \(R.table) SET \(assignments) WHERE \(condition(changing.count + 1))"
    }

    static func changingValues<R: StoredRow>(_ record: R, keeping fixed: Set<String>) -> [SQLValue] {
        zip(R.columns, record.values).filter { !fixed.contains($0.0) }.map(\.1)
    }
}
