import Foundation
import GatewayStorage
import GatewayStorageSQLite
import StorageConformance
import Testing

@Suite struct SQLiteGatewayStorageTests {
    static func freshPath() -> String { NSTemporaryDirectory() + "cnsgw-sqlite-\(UUID().uuidString).sqlite" }

    @Test("passes the GatewayStorage conformance suite, concurrent writers included")
    func conformance() async throws {
        try await StorageConformance.run { try SQLiteGatewayStorage(path: Self.freshPath()) }
    }

    @Test("two connections on one database file keep one audit chain and one winner per redemption")
    func twoConnections() async throws {
        let path = Self.freshPath()
        try await StorageConformance.sharedDatabase(try SQLiteGatewayStorage(path: path), try SQLiteGatewayStorage(path: path))
    }

    @Test("WAL mode, and data survives reopening")
    func persistence() async throws {
        let path = Self.freshPath()
        do {
            let s = try SQLiteGatewayStorage(path: path)
            _ = try await s.rememberOnce(namespace: "n", key: "k", now: Date(), expiresAt: Date() + 600)
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
        let reopened = try SQLiteGatewayStorage(path: path)
        #expect(try await !reopened.rememberOnce(namespace: "n", key: "k", now: Date(), expiresAt: Date() + 600))
    }

    @Test("a file that is not a database is refused with a clear error and left untouched")
    func corruptedFile() throws {
        let path = Self.freshPath()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        FileManager.default.createFile(atPath: path, contents: garbage)
        do {
            _ = try SQLiteGatewayStorage(path: path)
            Issue.record("a garbage file was opened as a database")
        } catch let e as StorageError {
            #expect(e.code == .corrupted)
            #expect(e.detail.contains("nothing was changed"))
        }
        #expect(FileManager.default.contents(atPath: path) == garbage)
    }
}
