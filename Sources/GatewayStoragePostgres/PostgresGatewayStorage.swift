import Foundation
import GatewayStorage
import Logging
import PostgresNIO

/// ``GatewayStorage`` on PostgreSQL (postgres-nio's pooled client): several gateway instances share one database.
///
/// How each operation stays correct with writers in other processes (every statement runs at PostgreSQL's default
/// READ COMMITTED isolation; none needs SERIALIZABLE, which would make callers retry):
/// - compare-and-swap updates (pending logins, sessions, registrations, CAs, keys) read the row `FOR UPDATE` inside a
///   transaction, so a second writer waits and then reads the first one's result; the `UPDATE … WHERE version = $n`
///   guards the same rule as SQLite does;
/// - one-time redemptions (codes, refresh tokens) are one conditional `UPDATE … WHERE spent_at IS NULL RETURNING`, and
///   the front ends' requests one `DELETE … RETURNING`: the row lock makes exactly one of concurrent takers win;
/// - the replay cache is one `INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING`, atomic per key;
/// - audit appends take a transaction-scoped advisory lock, so several writers form one chain (the sequence's primary
///   key would refuse a fork in any case);
/// - housekeeping takes a try-lock, so only one instance collects at a time, and the others skip.
/// Every operation has a deadline (`timeout` in `storage.url`): when the database is down or the pool is exhausted,
/// it fails with ``StorageError/Code/unavailable`` in time instead of hanging.
public final class PostgresGatewayStorage: GatewayStorage {
    let client: PostgresClient
    let logger: Logger
    public let settings: PostgresStorageSettings
    private let runner: Task<Void, Never>

    /// Connects, and applies pending schema migrations once per database (instances starting together wait on an
    /// advisory lock; the first applies them).
    public init(settings: PostgresStorageSettings, logger: Logger = Logger(label: "cnsgw.storage.postgres")) async throws {
        self.settings = settings
        self.logger = logger
        try await Self.checkConnection(settings, logger: logger)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do { try await migrate() } catch {
            runner.cancel()
            throw error
        }
    }

    deinit { runner.cancel() }

    /// Closes the pool (and with it the change-notification connection).
    public func close() { runner.cancel() }

    // MARK: running statements

    /// Runs `body` on a pooled connection within the operation deadline, without an explicit transaction: each statement
    /// commits by itself (reads, and writes of one statement, which save the BEGIN and COMMIT round trips).
    func autocommit<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withDeadline(what) { [client] in try await client.withConnection { try await body($0) } }
    }

    /// Runs `body` in a transaction (committed when it returns, rolled back when it throws) within the deadline.
    func write<T: Sendable>(_ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withDeadline(what, timeout: timeout) { [client, logger] in
            do {
                return try await client.withTransaction(logger: logger) { try await body($0) }
            } catch let error as PostgresTransactionError {
                // The closure's own error (a conflict, an updater's refusal) reaches the caller as it was thrown.
                if let closureError = error.closureError { throw closureError }
                throw error
            }
        }
    }

    /// Races `body` against the deadline. The body runs in a task of its own, so that an operation stuck on a
    /// connection that stopped answering cannot hold the caller: on timeout the task is cancelled (a waiting lease is
    /// withdrawn; a statement still running is ended by the server's `statement_timeout`/`lock_timeout`, set to the
    /// same deadline) and the caller gets `.unavailable` at once.
    func withDeadline<T: Sendable>(_ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = timeout ?? settings.operationTimeout
        let place = "\(settings.host):\(settings.port)"
        let race = DeadlineRace<T>()
        let work = Task { race.finish(await Result(catching: body).mapError { Self.storageError($0, what: what) }) }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            race.finish(.failure(StorageError(.unavailable, "the database did not answer within \(timeout) (\(what)); check that PostgreSQL at \(place) is up and not overloaded")))
        }
        defer {
            work.cancel()
            timer.cancel()
        }
        return try await withTaskCancellationHandler {
            try await race.wait()
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// Driver and server errors as storage errors; the storage's own errors (and an updater's) as they are.
    static func storageError(_ error: any Error, what: String) -> any Error {
        if error is StorageError || error is CancellationError { return error }
        if let psql = error as? PSQLError {
            if let state = psql.serverInfo?[.sqlState] {
                switch state {
                case "23505": return StorageError(.alreadyExists, "\(what): \(psql.serverInfo?[.message] ?? "a unique key exists")")
                case "40001", "40P01": return StorageError(.conflict, "\(what): a concurrent transaction won (\(state)); retry")
                case "57014", "55P03": return StorageError(.unavailable, "\(what): the database ended a statement that ran too long (\(state))")
                default: return StorageError(.unavailable, "\(what): PostgreSQL error \(state): \(psql.serverInfo?[.message] ?? "")")
                }
            }
            return StorageError(.unavailable, "\(what): the database is unreachable (\(psql.code.description))")
        }
        if error is PostgresTransactionError { return StorageError(.unavailable, "\(what): the transaction failed: \(error)") }
        return error
    }

    // MARK: migrations

    /// Advisory-lock keys (one namespace, "cnsg"): migrations, audit appends, housekeeping.
    enum Lock: Int64 {
        case migrations = 0x636E_7367_0001
        case audit = 0x636E_7367_0002
        case housekeeping = 0x636E_7367_0003
    }

    static let migrationTimeout = Duration.seconds(120)

    /// One connection, opened and closed: the address, TLS and password are right, or the error says which is wrong.
    static func checkConnection(_ settings: PostgresStorageSettings, logger: Logger) async throws {
        do {
            let connection = try await PostgresConnection.connect(on: PostgresClient.defaultEventLoopGroup.next(), configuration: try settings.connectionConfiguration(),
                                                                  id: 0, logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            let reason = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? error.code.description
            throw StorageError(.unavailable, "cannot connect to \(settings.description): \(reason)")
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.unavailable, "cannot connect to \(settings.description): \(error)")
        }
    }

    func migrate() async throws {
        // Start-up only: another instance may hold the lock while it migrates, and DDL on a busy database takes its time.
        try await write("schema migration", timeout: Self.migrationTimeout) { conn in
            try await conn.run("SET LOCAL lock_timeout = '\(Self.migrationTimeout.components.seconds)s'", [])
            try await conn.run("SET LOCAL statement_timeout = '\(Self.migrationTimeout.components.seconds)s'", [])
            try await conn.run("SELECT pg_advisory_xact_lock($1)", [.integer(Lock.migrations.rawValue)])
            try await conn.run("CREATE TABLE IF NOT EXISTS schema_migrations (id BIGINT PRIMARY KEY)", [])
            let applied = Set(try await conn.rows("SELECT id FROM schema_migrations", []).map { try $0.requiredInteger(0) })
            if let newest = applied.max(), newest > Int64(StorageMigrations.steps.map(\.id).max() ?? 0) {
                throw StorageError(.corrupted, "the database schema (\(newest)) is newer than this cnsgw; upgrade cnsgw")
            }
            for step in StorageMigrations.steps where !applied.contains(Int64(step.id)) {
                for sql in step.postgres { try await conn.run(sql, []) }
                try await conn.run("INSERT INTO schema_migrations (id) VALUES ($1)", [.integer(Int64(step.id))])
            }
        }
    }
}

/// The first of several results, for one waiter.
final class DeadlineRace<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `result` and `waiter` are only touched under `lock`.
    private let lock = NSLock()
    private var result: Result<T, any Error>?
    private var waiter: CheckedContinuation<T, any Error>?

    func finish(_ outcome: Result<T, any Error>) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        result = outcome
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(with: outcome)
    }

    func wait() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let result {
                lock.unlock()
                continuation.resume(with: result)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
