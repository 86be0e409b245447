import GatewayStorage
import Synchronization
import Testing

/// The poll-and-cache primitive: storage is read at most once per `maximumAge`, an invalidation is never lost (not
/// even one that arrives while a read is running), and an amendment shows at once.
@Suite struct StoredSnapshotTests {
    /// Records in "storage", how many reads and builds happened, and an optional gate that holds a read.
    final class Source: Sendable {
        let records = Mutex([1, 2])
        let reads = Mutex(0)
        let builds = Mutex(0)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holdNextRead = Mutex(false)
        let readStarted = Mutex(false)

        func read() async -> [Int] {
            reads.withLock { $0 += 1 }
            let current = records.withLock { $0 }   // what storage held when the read began
            if holdNextRead.withLock({ hold in defer { hold = false }; return hold }) {
                await withCheckedContinuation { continuation in
                    gate.withLock { $0 = continuation }
                    readStarted.withLock { $0 = true }
                }
            }
            return current
        }

        func snapshot(maximumAge: Duration = .seconds(60)) -> StoredSnapshot<[Int], String> {
            StoredSnapshot(maximumAge: maximumAge, read: { await self.read() }) { records, _ in
                self.builds.withLock { $0 += 1 }
                return records.map(String.init).joined(separator: ",")
            }
        }
    }

    @Test func readsOncePerMaximumAgeAndBuildsOnlyWhenRecordsChange() async throws {
        let source = Source()
        let snapshot = source.snapshot()
        for _ in 0..<20 { #expect(try await snapshot.value() == "1,2") }
        #expect(source.reads.withLock { $0 } == 1)
        source.records.withLock { $0 = [1, 2, 3] }
        #expect(try await snapshot.value() == "1,2", "fresh for maximumAge")
        snapshot.invalidate()
        #expect(try await snapshot.value() == "1,2,3")
        #expect(source.reads.withLock { $0 } == 2)
        snapshot.invalidate()
        #expect(try await snapshot.value() == "1,2,3")
        #expect(source.reads.withLock { $0 } == 3)
        #expect(source.builds.withLock { $0 } == 2, "the same records are not built again")

        let shortLived = source.snapshot(maximumAge: .milliseconds(20))
        _ = try await shortLived.value()
        try await Task.sleep(for: .milliseconds(40))
        _ = try await shortLived.value()
        #expect(source.reads.withLock { $0 } == 5, "read again once the value is older than maximumAge")
    }

    @Test func amendShowsAtOnceAndTheNextReadReplacesIt() async throws {
        let source = Source()
        let snapshot = source.snapshot()
        snapshot.amend { $0 = "ignored" }   // nothing before the first read
        #expect(try await snapshot.value() == "1,2")
        snapshot.amend { $0 += ",9" }
        #expect(try await snapshot.value() == "1,2,9")
        source.records.withLock { $0 = [4] }
        snapshot.invalidate()
        #expect(try await snapshot.value() == "4")
    }

    @Test func anAmendmentIsDroppedByTheNextReadEvenWhenStorageIsBackWhereItWas() async throws {
        // A registration remembered in memory and removed from storage before any read saw it: the records read next
        // are those of the read before the amendment, and the amended value must not survive them.
        let source = Source()
        let snapshot = source.snapshot()
        #expect(try await snapshot.value() == "1,2")
        snapshot.amend { $0 += ",remembered" }
        #expect(try await snapshot.value() == "1,2,remembered")
        snapshot.invalidate()
        #expect(try await snapshot.value() == "1,2")
    }

    @Test func anInvalidationDuringARunningReadIsNotLost() async throws {
        let source = Source()
        let snapshot = source.snapshot()
        #expect(try await snapshot.value() == "1,2")
        source.holdNextRead.withLock { $0 = true }
        snapshot.invalidate()
        let running = Task { try await snapshot.value() }
        while !source.readStarted.withLock({ $0 }) { await Task.yield() }
        // The records change and the change is announced while the read that began before it is still running.
        source.records.withLock { $0 = [7] }
        snapshot.invalidate()
        source.gate.withLock { $0?.resume(); $0 = nil }
        _ = try await running.value
        #expect(try await snapshot.value() == "7", "the read after the invalidation sees the change")
    }
}
