import Foundation
import GRDB
@testable import GatewayStorageSQLite
import Synchronization
import Testing

/// Group commit on the SQLite writer: several writes per transaction, each keeping its own result and its own failure.
@Suite struct SQLiteGroupCommitTests {
    /// Counts the transactions that commit and those that roll back.
    final class TransactionCounter: TransactionObserver, @unchecked Sendable {
        // @unchecked Sendable: GRDB calls it on the writer's queue only; tests read it after the writes returned.
        var commits = 0
        var rollbacks = 0
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { commits += 1 }
        func databaseDidRollback(_ db: Database) { rollbacks += 1 }
    }

    struct Refused: Error, Equatable { let n: Int }

    static func pool() throws -> (DatabasePool, TransactionCounter) {
        let pool = try DatabasePool(path: NSTemporaryDirectory() + "cnsgw-group-\(UUID().uuidString).sqlite")
        try pool.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        let counter = TransactionCounter()
        pool.add(transactionObserver: counter, extent: .databaseLifetime)
        return (pool, counter)
    }

    /// Inserts `n`; a multiple of 5 is then refused by the write itself (after its insert, which must not stay).
    static func insert(_ n: Int) -> @Sendable (Database) throws -> Int {
        { db in
            try db.execute(sql: "INSERT INTO t (n) VALUES (?)", arguments: [n])
            if n % 5 == 0 { throw Refused(n: n) }
            return n * 2
        }
    }

    @Test("writes queued behind a running one commit in one transaction; each gets its own result, a refused one leaves nothing")
    func queuedWritesShareATransaction() async throws {
        let (pool, counter) = try Self.pool()
        let commit = SQLiteGroupCommit(pool: pool)
        let started = Atomic<Bool>(false)
        // The first write holds the writer until the others are queued behind it.
        async let first: Int = commit.write { db in
            started.store(true, ordering: .sequentiallyConsistent)
            Thread.sleep(forTimeInterval: 0.3)
            try db.execute(sql: "INSERT INTO t (n) VALUES (1000)")
            return 1
        }
        while !started.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(2)) }
        let results = await withTaskGroup(of: (Int, Result<Int, Refused>).self) { group in
            for n in 1...40 {
                group.addTask {
                    do { return (n, .success(try await commit.write(Self.insert(n)))) } catch let error as Refused { return (n, .failure(error)) } catch {
                        Issue.record("write \(n) failed with \(error)")
                        return (n, .failure(Refused(n: -1)))
                    }
                }
            }
            var all: [Int: Result<Int, Refused>] = [:]
            for await (n, result) in group { all[n] = result }
            return all
        }
        #expect(try await first == 1)
        for n in 1...40 {
            #expect(results[n] == (n % 5 == 0 ? .failure(Refused(n: n)) : .success(n * 2)), "write \(n)")
        }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM t ORDER BY n") }
        #expect(stored == (1...40).filter { $0 % 5 != 0 } + [1000])
        // The held write's transaction, then one for the 40 queued behind it (fewer than the 64 a batch may hold).
        #expect(counter.commits == 2)
        #expect(counter.rollbacks == 0)
    }

    /// One thread for the jobs of the tasks that prefer it, as a NIO event loop is for a request's tasks.
    final class SerialExecutor: TaskExecutor, @unchecked Sendable {
        // @unchecked Sendable: the queue is the only state, and DispatchQueue is thread-safe.
        let queue = DispatchQueue(label: "cnsgw.test.serial-executor")
        static let marker = DispatchSpecificKey<Bool>()
        init() { queue.setSpecific(key: Self.marker, value: true) }
        /// Whether the caller runs on this executor's thread.
        static var isCurrent: Bool { DispatchQueue.getSpecific(key: marker) == true }
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    @Test("writes issued in the same turn of one executor (a login update and its audit record) share one transaction")
    func sameTurnWritesShareATransaction() async throws {
        let (pool, counter) = try Self.pool()
        let executor = SerialExecutor()
        for round in 0..<5 {
            // A group commit of its own each round: the previous round's drain may still be on its last look at its
            // queue, and would take this round's first write at once (correct, but not what is tested here).
            let commit = SQLiteGroupCommit(pool: pool)
            let before = counter.commits
            let (a, b) = try await withTaskExecutorPreference(executor) {
                // On the executor before the two writes start, as a request's task is on its event loop: the task
                // moves to its preferred executor at its next suspension.
                await Task.yield()
                #expect(SerialExecutor.isCurrent)
                async let update = commit.write(Self.insert(round * 10 + 1))
                // The audit record takes a while to build (its hash chain, its JSON) before it is written.
                async let audit = { () async throws -> Int in
                    usleep(5_000)
                    return try await commit.write(Self.insert(round * 10 + 2))
                }()
                return try await (update, audit)
            }
            #expect((a, b) == ((round * 10 + 1) * 2, (round * 10 + 2) * 2))
            #expect(counter.commits == before + 1, "round \(round)")
        }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM t ORDER BY n") }
        let expected: [Int] = (0..<5).flatMap { (round: Int) -> [Int] in [round * 10 + 1, round * 10 + 2] }
        #expect(stored == expected)
    }

    @Test("a write alone that is refused rolls its transaction back; a database error reaches its caller")
    func aloneRefusedAndFailing() async throws {
        let (pool, counter) = try Self.pool()
        let commit = SQLiteGroupCommit(pool: pool)
        await #expect(throws: Refused(n: 5)) { try await commit.write(Self.insert(5)) }
        #expect(try await commit.write(Self.insert(6)) == 12)
        await #expect(throws: DatabaseError.self) { try await commit.write(Self.insert(6)) }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM t ORDER BY n") }
        #expect(stored == [6])
        #expect(counter.commits == 1)
        #expect(counter.rollbacks == 2)
    }

    @Test("writers that keep finding the writer just idle or just busy never wait forever (a drain that ends as a write queues)",
          .timeLimit(.minutes(10)))
    func noWriteIsLeftBehind() async throws {
        let (pool, _) = try Self.pool()
        let commit = SQLiteGroupCommit(pool: pool)
        // Four writers one write at a time: the queue empties and refills all the time, so drains end and start
        // around every write. A write that queued behind a drain that had just ended would never return. (The limit
        // is generous: in the whole suite, run in parallel on two cores, a test can wait minutes for a thread.)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for n in 0..<125 where (writer * 1000 + n) % 5 != 0 {
                        _ = try await commit.write(Self.insert(writer * 1000 + n + 1_000_000))
                    }
                }
            }
            try await group.waitForAll()
        }
        let stored = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        #expect(stored == 4 * 100)
    }

    @Test("many concurrent writers: every acknowledged write is stored, in fewer transactions than writes")
    func concurrentWriters() async throws {
        let (pool, counter) = try Self.pool()
        let commit = SQLiteGroupCommit(pool: pool, batchLimit: 8)
        let acknowledged = try await withThrowingTaskGroup(of: Int?.self) { group in
            for n in 1...300 { group.addTask { try? await commit.write(Self.insert(n)) } }
            var count = 0
            for try await value in group where value != nil { count += 1 }
            return count
        }
        #expect(acknowledged == 240)
        let stored = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        #expect(stored == 240)
        // Refused writes alone in their transaction roll it back: count both ends.
        #expect(counter.commits + counter.rollbacks < 300)
        #expect(counter.commits + counter.rollbacks >= 300 / 8)
    }
}
