import ArgumentParser
import Foundation
import GatewayAudit
import GatewayStorage

/// `list` of an admin registry (trusted CAs, service providers, OIDC clients): a JSON array with `--json`, a hint
/// when it is empty, else one line per entry.
protocol RegistryListCommand: AsyncParsableCommand {
    associatedtype Entry
    var json: Bool { get }
    var data: DataDirectoryOptions { get }
    /// What to print when there is nothing to list (how to add the first one).
    static var emptyHint: String { get }
    func entries(_ storage: any GatewayStorage) async throws -> [Entry]
    func row(_ entry: Entry) throws -> [String: Any]
    func line(_ entry: Entry) -> String
}

extension RegistryListCommand {
    func run() async throws {
        let entries = try await entries(try await data.openStorage())
        if json {
            let rows = try entries.map(row)
            print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        } else if entries.isEmpty {
            print(Self.emptyHint)
        } else {
            for entry in entries { print(line(entry)) }
        }
    }
}

/// `remove` from an admin registry: the entry goes (an unknown one is a usage error naming it), the removal is
/// audited, and a line says what went.
protocol RegistryRemoveCommand: AsyncParsableCommand {
    var data: DataDirectoryOptions { get }
    /// Removes the entry; returns the audit fields (with `action`) and the line to print. Throws a ``UsageError`` for
    /// an entry that is not there.
    func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String)
}

extension RegistryRemoveCommand {
    func run() async throws {
        let storage = try await data.openStorage()
        let (fields, said) = try await remove(from: storage)
        try await AuditLog(storage: storage).append(kind: "admin", fields: fields)
        print(said)
    }

    /// Removes a registration, or throws `unknown` when it is not there.
    func removeRegistration(kind: String, id: String, from storage: any GatewayStorage, unknown: String) async throws {
        do { try await storage.removeRegistration(kind: kind, id: id) } catch let error as StorageError where error.code == .notFound {
            throw UsageError(unknown)
        }
    }
}
