import ArgumentParser
import CNSValidation
import Foundation
import GatewayTrust
import GatewayStorage
import GatewayStoragePostgres
import GatewayStorageSQLite
import KeyProtection
#if canImport(Glibc)
import Glibc
#endif

/// `--data-dir` and `--storage-url`: where the gateway keeps its records — the SQLite database in the data folder, or
/// the PostgreSQL database several instances share — and, with the server, its local files (keys, caches).
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The gateway's data folder (SQLite database cnsgw.sqlite). Default $CNSGW_DATA_DIR, else ./var.")
    var dataDirOption: String?

    @Option(name: .customLong("storage-url"), help: ArgumentHelp(
        "The shared PostgreSQL database, postgres://USER[:PASSWORD]@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=FILE (storage.url); default $CNSGW_STORAGE_URL, else the SQLite database in the data folder.",
        discussion: "The password may instead be the first line of the file named by $CNSGW_STORAGE_PASSWORD_FILE (storage.password_file)."))
    var storageURLOption: String?

    /// `--storage-url`, else `$CNSGW_STORAGE_URL`; nil (or empty) means SQLite in the data folder. `serve` sets it from its settings.
    var storageURL: String? {
        get { (storageURLOption ?? ProcessInfo.processInfo.environment["CNSGW_STORAGE_URL"]).flatMap { $0.isEmpty ? nil : $0 } }
        set { storageURLOption = newValue ?? "" }
    }

    /// The database password file (`storage.password_file`, `$CNSGW_STORAGE_PASSWORD_FILE`).
    var storagePasswordFile: String? = ProcessInfo.processInfo.environment["CNSGW_STORAGE_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 }

    enum CodingKeys: String, CodingKey { case dataDirOption, storageURLOption }

    init() {}

    /// Options made in code rather than parsed (an @Option that was not parsed cannot be read).
    init(dataDir: String, storageURL: String?) {
        self.init()
        dataDirOption = dataDir
        storageURLOption = storageURL
    }

    /// The folder: `--data-dir`, else `$CNSGW_DATA_DIR` (the `data_dir` setting's variable), else `var`.
    var dataDir: String {
        get { dataDirOption ?? ProcessInfo.processInfo.environment["CNSGW_DATA_DIR"] ?? "var" }
        set { dataDirOption = newValue }
    }

    var databasePath: String { (dataDir as NSString).appendingPathComponent("cnsgw.sqlite") }

    /// Opens the storage, creating the folder (0700) and database (0600) when missing, with private keys sealed by
    /// the key-encryption key (see ``KeyEncryptionKey``); a bad file or a wrong key is a usage error (exit 2).
    /// Everything the process creates is private to it (umask 077): database, WAL and SHM files, keys, caches.
    func openStorage(keyFile: String? = nil, key: String? = nil) async throws -> SealedKeyStorage {
        try await openSharedStorage(keyFile: keyFile, key: key).storage
    }

    /// The storage, with the change feed when it is shared with other instances (PostgreSQL).
    func openSharedStorage(keyFile: String? = nil, key: String? = nil) async throws -> (storage: SealedKeyStorage, changes: (any StorageChangeNotifying)?) {
        umask(0o077)
        let base: any GatewayStorage
        var changes: (any StorageChangeNotifying)?
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let storageURL {
                let postgres = try await PostgresGatewayStorage(settings: PostgresStorageSettings(url: storageURL, passwordFile: storagePasswordFile))
                base = postgres
                changes = postgres
            } else {
                base = try SQLiteGatewayStorage(path: databasePath)
            }
        } catch let e as StorageError {
            throw UsageError("cannot open the gateway database: \(e.detail)")
        } catch {
            throw UsageError("cannot create \(dataDir): \(error.localizedDescription)")
        }
        let environment = ProcessInfo.processInfo.environment
        let file = keyFile ?? environment["CNSGW_KEYS_ENCRYPTION_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (dataDir as NSString).appendingPathComponent("keys.kek")
        do {
            let kek = try KeyEncryptionKey.load(base64: key ?? environment["CNSGW_KEYS_ENCRYPTION_KEY"], file: file,
                                                mayCreate: !(try await SealedKeyStorage.holdsSealedValues(base)))
            let storage = SealedKeyStorage(base, kek: kek)
            try await storage.verifyAndSealAll()
            return (storage, changes)
        } catch let failure as KeyEncryptionKey.Failure {
            throw UsageError("cnsgw: \(failure.detail)")
        }
    }

    /// Refuses a data folder, database or key file that other users can read, naming the `chmod` that fixes it.
    func requirePrivateFiles(_ extra: [(path: String, setting: String)]) throws {
        do {
            try FilePermissions.requirePrivate(dataDir, setting: "data_dir", directory: true)
            if storageURL == nil {
                for suffix in ["", "-wal", "-shm"] { try FilePermissions.requirePrivate(databasePath + suffix, setting: "data_dir") }
            }
            if let storagePasswordFile { try FilePermissions.requirePrivate(storagePasswordFile, setting: "storage.password_file") }
            for (path, setting) in extra { try FilePermissions.requirePrivate(path, setting: setting) }
        } catch let failure as KeyEncryptionKey.Failure {
            throw UsageError("cnsgw serve: \(failure.detail)")
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
