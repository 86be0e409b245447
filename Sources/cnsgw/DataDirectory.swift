import ArgumentParser
import CNSValidation
import Foundation
import GatewayServer
import GatewayStorage
import GatewayStorageSQLite

/// `--data-dir`: where the gateway keeps its SQLite database (and, with the server, keys and caches).
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The gateway's data folder (SQLite database cnsgw.sqlite). Default $CNSGW_DATA_DIR, else ./var.")
    var dataDirOption: String?

    /// The folder: `--data-dir`, else `$CNSGW_DATA_DIR` (the `data_dir` setting's variable), else `var`.
    var dataDir: String {
        get { dataDirOption ?? ProcessInfo.processInfo.environment["CNSGW_DATA_DIR"] ?? "var" }
        set { dataDirOption = newValue }
    }

    var databasePath: String { (dataDir as NSString).appendingPathComponent("cnsgw.sqlite") }

    /// Opens the storage, creating the folder and database when missing; a bad file is a usage error (exit 2).
    func openStorage() throws -> SQLiteGatewayStorage {
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            return try SQLiteGatewayStorage(path: databasePath)
        } catch let e as StorageError {
            throw UsageError("cannot open the gateway database: \(e.detail)")
        } catch {
            throw UsageError("cannot create \(dataDir): \(error.localizedDescription)")
        }
    }

    /// The admin's trusted CAs as a ``TrustStore``, each with its stored policy (the server's own mapping).
    func trustStore(_ storage: any GatewayStorage) async throws -> TrustStore {
        try await TrustStoreProvider(storage: storage).trustStore()
    }
}

/// Parses `90`, `90s`, `15m`, `12h`, `7d` into seconds.
func parseDuration(_ text: String, option: String) throws -> TimeInterval {
    let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let value = Double(trimmed), value >= 0 { return value }
    if let unit = trimmed.last, let factor = units[unit], let value = Double(trimmed.dropLast()), value >= 0 { return value * factor }
    throw UsageError("\(option) '\(text)' is not a duration (for example 3600, 90s, 15m, 12h, 7d)")
}
