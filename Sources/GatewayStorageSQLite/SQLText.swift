/// The SQL of the typed tables, made once from their column lists (so a column added to a list reaches every
/// statement that writes or reads it).
enum SQLText {
    static func insert(into table: String, _ columns: [String], onConflictDoNothing: Bool = false) -> String {
        "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
            + (onConflictDoNothing ? " ON CONFLICT DO NOTHING" : "")
    }

    static func select(_ columns: [String], from table: String, where condition: String) -> String {
        "SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE \(condition)"
    }

    /// `a = ?, b = ?, …`
    static func assignments(_ columns: [String]) -> String { columns.map { $0 + " = ?" }.joined(separator: ", ") }
}
