import Foundation
import GatewayStorage
import NIOSSL
import PostgresNIO

/// Where and how to reach the PostgreSQL database several gateway instances share, from the `storage.url` setting:
/// `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…&sslrootcert=FILE&pool_size=N&timeout=SECONDS`.
public struct PostgresStorageSettings: Sendable, Hashable {
    /// libpq's `sslmode` values, with their meaning here.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP (only for a database on the same host or a private link).
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS always, without checking the server's certificate (protects against eavesdropping, not impersonation).
        case require
        /// TLS, the server's certificate chained to `sslrootcert` (any name).
        case verifyCA = "verify-ca"
        /// TLS, the certificate chained to `sslrootcert` and naming the host: the one to use across a network.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert`: the PEM file of the CA the server's certificate must chain to (verify-ca, verify-full).
    public var rootCertificateFile: String?
    /// `pool_size`: connections this instance keeps at most (one more is held for change notifications).
    public var poolSize: Int
    /// `timeout`: how long one storage operation may wait for a connection and run before it fails as unavailable.
    public var operationTimeout: Duration

    /// Parses `url`; the password comes from the URL or, when `passwordFile` is set, from that file's first line
    /// (so it stays out of settings files and process listings).
    public init(url: String, passwordFile: String? = nil) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw StorageError(.unavailable, "storage.url must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full (got \(Self.redacted(url)))")
        }
        guard let host = components.host, !host.isEmpty else { throw StorageError(.unavailable, "storage.url names no host: \(Self.redacted(url))") }
        guard let user = components.user, !user.isEmpty else { throw StorageError(.unavailable, "storage.url names no user: \(Self.redacted(url))") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw StorageError(.unavailable, "storage.url names no database (postgres://USER@HOST:PORT/DATABASE): \(Self.redacted(url))")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user
        self.database = database
        self.password = components.password
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard query[item.name] == nil else { throw StorageError(.unavailable, "storage.url repeats \(item.name)") }
            query[item.name] = item.value ?? ""
        }
        let known: Set<String> = ["sslmode", "sslrootcert", "pool_size", "timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw StorageError(.unavailable, "storage.url: unknown parameter \(unknown) (known: \(known.sorted().joined(separator: ", ")))")
        }
        // libpq's default is `prefer`; a gateway that shares secrets through the database should not fall back to plain
        // text silently, so the default here is `require` unless the database is on the loopback interface.
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        guard let mode = SSLMode(rawValue: query["sslmode"] ?? (loopback ? "prefer" : "require")) else {
            throw StorageError(.unavailable, "storage.url: sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        sslMode = mode
        rootCertificateFile = query["sslrootcert"]
        if [.verifyCA, .verifyFull].contains(mode), rootCertificateFile == nil {
            throw StorageError(.unavailable, "storage.url: sslmode=\(mode.rawValue) needs sslrootcert=FILE (the CA of the database server's certificate)")
        }
        guard let size = Int(query["pool_size"] ?? "10"), (1...500).contains(size) else {
            throw StorageError(.unavailable, "storage.url: pool_size must be a number from 1 to 500")
        }
        poolSize = size
        guard let seconds = Double(query["timeout"] ?? "5"), seconds > 0, seconds <= 300 else {
            throw StorageError(.unavailable, "storage.url: timeout must be seconds, more than 0 and at most 300")
        }
        operationTimeout = .milliseconds(Int64(seconds * 1000))
        if let passwordFile, !passwordFile.isEmpty {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw StorageError(.unavailable, "cannot read the database password file \(passwordFile)")
            }
            password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
        }
    }

    /// `url` with its password replaced by `***`, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unparsable URL)"
    }

    /// What the log may say about this database.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database) (sslmode=\(sslMode.rawValue))" }

    var timeoutMilliseconds: Int64 { operationTimeout.components.seconds * 1000 + operationTimeout.components.attoseconds / 1_000_000_000_000_000 }

    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch sslMode {
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .disable: break
        }
        if let rootCertificateFile {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificateFile)) } catch {
                throw StorageError(.unavailable, "cannot read sslrootcert \(rootCertificateFile): \(error)")
            }
        }
        return tls
    }

    /// One connection's settings, for the check `PostgresGatewayStorage` makes before it starts its pool (a wrong
    /// password or certificate is then an error at once instead of a pool retrying until the deadline).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let context = try NIOSSLContext(configuration: try tlsConfiguration())
        let mode: PostgresConnection.Configuration.TLS = sslMode == .disable ? .disable : sslMode == .prefer ? .prefer(context) : .require(context)
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .milliseconds(timeoutMilliseconds)
        return configuration
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls = try tlsConfiguration()
        let mode: PostgresClient.Configuration.TLS = sslMode == .disable ? .disable : sslMode == .prefer ? .prefer(tls) : .require(tls)
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.maximumConnections = poolSize + 1
        configuration.options.connectTimeout = operationTimeout
        // The server ends what would outlive the operation's deadline, so a slow statement or a lock wait cannot hold a
        // pooled connection after its caller gave up.
        let milliseconds = String(timeoutMilliseconds)
        configuration.options.additionalStartupParameters = [("statement_timeout", milliseconds), ("lock_timeout", milliseconds),
                                                             ("idle_in_transaction_session_timeout", milliseconds), ("application_name", "cnsgw")]
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(15))
        return configuration
    }
}
