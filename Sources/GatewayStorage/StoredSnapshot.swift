import Synchronization

/// A value built from stored records — the registered providers and clients, the trusted CAs, the signing keys —
/// read from storage at most once per `maximumAge` and rebuilt only when the records changed, so an admin's change
/// (or another instance's key rotation) reaches a running gateway without a restart, and requests in between use
/// the value in memory. The one poll-and-cache primitive of the gateway.
///
/// A fresh value is read under a lock, on the caller's thread: every login asks for several of these, and an actor
/// would move each request to the concurrency pool and back for what is a dictionary read (two thread hand-offs per
/// value under load). Only a stale value awaits storage.
public final class StoredSnapshot<Records: Equatable & Sendable, Value: Sendable>: Sendable {
    public let maximumAge: Duration
    private let read: @Sendable () async throws -> Records
    private let build: @Sendable (Records, Value?) throws -> Value
    @usableFromInline let state = Mutex(State())

    @usableFromInline struct State {
        /// The value and the records it was built from; no records once it was amended, so the next read rebuilds it
        /// even from the same records (storage may be back where it was, e.g. a registration this process remembered
        /// was removed before any read saw it).
        @usableFromInline var current: (records: Records?, value: Value)?
        @usableFromInline var checkedAt: ContinuousClock.Instant?
        /// Counts invalidations, so a read that began before one does not mark the value fresh after it.
        var generation = 0
    }

    /// `build` makes the value from the records; it gets the previous value to reuse what did not change.
    public init(maximumAge: Duration, read: @escaping @Sendable () async throws -> Records, build: @escaping @Sendable (Records, Value?) throws -> Value) {
        self.maximumAge = maximumAge
        self.read = read
        self.build = build
    }

    /// Forgets when the records were last read, so the next ``value()`` reads them (a change notification came).
    public func invalidate() {
        state.withLock { state in
            state.checkedAt = nil
            state.generation += 1
        }
    }

    /// Changes the value in memory until the next read (a writer that just stored a record makes it visible at once,
    /// without reading every record again; the next read rebuilds from storage as usual). Nothing happens before the
    /// first read.
    public func amend(_ change: (inout Value) -> Void) {
        state.withLock { state in
            guard var current = state.current else { return }
            change(&current.value)
            current.records = nil
            state.current = current
        }
    }

    /// The value as of at most `maximumAge` ago.
    ///
    /// The fresh path is inlinable so that it is compiled for the caller's record and value types: unspecialised, its
    /// lock and optional tuple looked up generic type metadata on every call, several times per login.
    @inlinable
    public func value() async throws -> Value {
        let now = ContinuousClock.now
        let fresh = state.withLock { state -> Value? in
            guard let current = state.current, let checkedAt = state.checkedAt, now - checkedAt < maximumAge else { return nil }
            return current.value
        }
        if let fresh { return fresh }
        return try await reread(at: now)
    }

    /// Reads the records and rebuilds the value unless they are the ones it was built from.
    @usableFromInline
    func reread(at now: ContinuousClock.Instant) async throws -> Value {
        // Taken before the read: an invalidation while it runs leaves the value stale for the next caller.
        let generation = state.withLock { $0.generation }
        let records = try await read()
        // Built outside the lock (it may parse certificates); two callers that read at once may both build, and the
        // later one's value stays — both from the same records, or the later from newer ones.
        let previous = state.withLock { state in state.current }
        if let previous, previous.records == records {
            state.withLock { state in if state.generation == generation { state.checkedAt = now } }
            return previous.value
        }
        let value = try build(records, previous?.value)
        state.withLock { state in
            state.current = (records, value)
            state.checkedAt = state.generation == generation ? now : nil
        }
        return value
    }
}

/// A backend whose records other processes change (PostgreSQL shared by several instances) and that is told when
/// they do, so values built from them (``StoredSnapshot``) are read again at once instead of at their next poll.
public protocol StorageChangeNotifying: Sendable {
    /// The names of tables as writers commit changes to them, and ``StorageChanges/anyTable`` whenever the feed (re)connects, when
    /// changes may have been missed. The stream ends when the caller stops iterating.
    func changedTables() -> AsyncStream<String>
}

/// What a change feed sends.
public enum StorageChanges {
    /// The name sent when anything may have changed (the feed (re)connected).
    public static let anyTable = "*"
}
