import GRDB
import Synchronization

/// Group commit for SQLite writes: the writes that wait while a transaction runs are stored together in the next one,
/// each in its own savepoint, in arrival order. A write's caller resumes only once the transaction that holds it has
/// committed, so nothing acknowledged is lost with the process (against a power loss, the connection's `synchronous`
/// setting decides, as before); what one write throws rolls back that write alone and reaches its caller as before.
/// Under load one `BEGIN`/`COMMIT` and one set of WAL frames carry several writes (a card step's login update and its
/// audit record, or the card steps of several citizens); alone, a write is stored in a transaction of its own at once.
///
/// Written here because GRDB serialises writers but commits each one on its own; the audit log's own grouping
/// (`GatewayAudit`) groups only audit records, and only per backend-neutral append.
final class SQLiteGroupCommit: Sendable {
    /// One write as the writer's queue sees it: run in the transaction, then told how the transaction ended.
    private protocol QueuedWrite: AnyObject, Sendable {
        /// Runs the write; throws only when the transaction must not commit (its savepoint could not be undone).
        func run(_ db: Database, alone: Bool) throws
        /// Whether the write threw (after ``run(_:alone:)``).
        var failed: Bool { get }
        func finish(transactionError: (any Error)?)
    }

    private final class Write<T: Sendable>: QueuedWrite, @unchecked Sendable {
        // @unchecked Sendable: `result` is set and read only on the database's writer queue, before `finish`.
        let body: @Sendable (Database) throws -> T
        let continuation: CheckedContinuation<T, any Error>
        var result: Result<T, any Error>?

        init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
            self.body = body
            self.continuation = continuation
        }

        func run(_ db: Database, alone: Bool) throws {
            guard !alone else {
                // The transaction is this write's own: its error rolls the transaction back (``commit(_:_:)``).
                result = Result { try body(db) }
                return
            }
            try Control.savepoint.run(db)
            do {
                result = .success(try body(db))
            } catch {
                result = .failure(error)
                // This write's changes go; the others' stay. Should that fail, nothing of the batch may commit.
                try Control.rollbackToSavepoint.run(db)
            }
            try Control.releaseSavepoint.run(db)
        }

        var failed: Bool {
            if case .failure = result { return true }
            return false
        }

        func finish(transactionError: (any Error)?) {
            switch (result, transactionError) {
            case (.failure(let error)?, _): continuation.resume(throwing: error)
            case (.success(let value)?, nil): continuation.resume(returning: value)
            case (_, let error?): continuation.resume(throwing: error)
            case (nil, nil): continuation.resume(throwing: DatabaseError(resultCode: .SQLITE_ABORT, message: "the write did not run"))
            }
        }
    }

    private struct State {
        var queue: [any QueuedWrite] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// Writes per transaction at most: bounds how long one transaction holds the writer under a burst.
    private let batchLimit: Int

    init(pool: DatabasePool, batchLimit: Int = 64) {
        self.pool = pool
        self.batchLimit = batchLimit
    }

    /// Runs `body` in a write transaction (shared with the writes queued beside it) and returns once it is committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let leads = state.withLock { state in
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        // The write that starts a transaction first lets the jobs already waiting on its executor run: a write they
        // make (a card step's audit record, issued beside its login update) joins this transaction instead of waiting
        // for one of its own. Later writes queue behind the draining flag set above.
        if leads { await Task.yield() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let startDrain = state.withLock { state in
                state.queue.append(Write(body: body, continuation: continuation))
                if leads { return true }
                // The drain this write saw may have found its queue empty and ended since: then this write starts one.
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDrain { pool.asyncWriteWithoutTransaction { [self] db in drain(db) } }
        }
    }

    /// On the writer's queue: transactions of what is queued, until nothing is.
    private func drain(_ db: Database) {
        while true {
            let batch: [any QueuedWrite]? = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return nil
                }
                let batch = Array(state.queue.prefix(batchLimit))
                state.queue.removeFirst(batch.count)
                return batch
            }
            guard let batch else { return }
            let transactionError = Self.commit(batch, db)
            for write in batch { write.finish(transactionError: transactionError) }
        }
    }

    /// One transaction for `batch`; the error that stopped it from committing, if any.
    private static func commit(_ batch: [any QueuedWrite], _ db: Database) -> (any Error)? {
        let alone = batch.count == 1
        do {
            try Control.begin.run(db)
        } catch {
            return error
        }
        do {
            for write in batch {
                // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error): what follows
                // must not run outside it, and the commit below then reports the error to every write.
                guard db.isInsideTransaction else { break }
                try write.run(db, alone: alone)
            }
            if alone, batch[0].failed {
                try Control.rollback.run(db)
                return nil
            }
            try Control.commit.run(db)
            return nil
        } catch {
            if db.isInsideTransaction { try? Control.rollback.run(db) }
            return error
        }
    }

    /// The transaction's own statements, prepared once per connection (GRDB's `inTransaction` and `inSavepoint` build
    /// and prepare each of them anew every time: about 2% of the gateway's CPU on the card step, by `perf`).
    private enum Control: String {
        case begin = "BEGIN IMMEDIATE TRANSACTION"
        case commit = "COMMIT TRANSACTION"
        case rollback = "ROLLBACK TRANSACTION"
        case savepoint = "SAVEPOINT cnsgw_write"
        case rollbackToSavepoint = "ROLLBACK TRANSACTION TO SAVEPOINT cnsgw_write"
        case releaseSavepoint = "RELEASE SAVEPOINT cnsgw_write"

        func run(_ db: Database) throws { try db.cachedStatement(sql: rawValue).execute() }
    }
}
