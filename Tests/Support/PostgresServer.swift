import Foundation

/// A real PostgreSQL server on 127.0.0.1 for one test suite (scripts/postgres-cluster.sh: Debian's binaries,
/// password authentication, TLS), stopped and removed on `destroy()` or deinit.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: every field is set once in init.
    public let directory: String
    public let port: Int
    public let password: String
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/postgres-cluster.sh").path

    public init() throws {
        directory = NSTemporaryDirectory() + "cnsgw-pg-\(UUID().uuidString.prefix(8))"
        port = LocalService.freePort()
        try Self.run(["init", directory, String(port)])
        password = try String(contentsOfFile: directory + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { destroy() }

    /// The server's own certificate (self-signed): the `sslrootcert` of `verify-full`.
    public var certificatePath: String { directory + "/server.crt" }

    /// A new, empty database; returns its URL (`query` appended, e.g. `sslmode=require`).
    public func createDatabase(_ name: String = "t" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""),
                               query: String = "") throws -> String {
        let url = try Self.run(["createdb", directory, name]).trimmingCharacters(in: .whitespacesAndNewlines)
        return query.isEmpty ? url : url + "?" + query
    }

    /// `fast` waits for sessions to end; `immediate` is a crash (no shutdown checkpoint).
    public func stop(mode: String = "fast") throws { try Self.run(["stop", directory, mode]) }
    public func start() throws { try Self.run(["start", directory]) }

    public func destroy() { _ = try? Self.run(["destroy", directory]) }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let result = try runCommand("/bin/bash", [script] + arguments, timeout: 60)
        guard result.status == 0 else { throw ServiceError("postgres-cluster.sh \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)") }
        return result.stdout
    }
}
