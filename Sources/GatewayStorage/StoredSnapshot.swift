/// A value built from stored records — the registered providers and clients, the trusted CAs, the signing keys —
/// read from storage at most once per `maximumAge` and rebuilt only when the records changed, so an admin's change
/// (or another instance's key rotation) reaches a running gateway without a restart, and requests in between use
/// the value in memory. The one poll-and-cache primitive of the gateway.
public actor StoredSnapshot<Records: Equatable & Sendable, Value: Sendable> {
    public let maximumAge: Duration
    private let read: @Sendable () async throws -> Records
    private let build: @Sendable (Records, Value?) throws -> Value
    private var current: (records: Records, value: Value)?
    private var checkedAt: ContinuousClock.Instant?

    /// `build` makes the value from the records; it gets the previous value to reuse what did not change.
    public init(maximumAge: Duration, read: @escaping @Sendable () async throws -> Records, build: @escaping @Sendable (Records, Value?) throws -> Value) {
        self.maximumAge = maximumAge
        self.read = read
        self.build = build
    }

    /// Forgets when the records were last read, so the next ``value()`` reads them (a change notification came).
    public func invalidate() { checkedAt = nil }

    /// Changes the value in memory until the next read (a writer that just stored a record makes it visible at once,
    /// without reading every record again; the next read rebuilds from storage as usual). Nothing happens before the
    /// first read.
    public func amend(_ change: @Sendable (inout Value) -> Void) {
        guard var current else { return }
        change(&current.value)
        self.current = current
    }

    /// The value as of at most `maximumAge` ago.
    public func value() async throws -> Value {
        let now = ContinuousClock.now
        if let current, let checkedAt, now - checkedAt < maximumAge { return current.value }
        let records = try await read()
        checkedAt = now
        if let current, current.records == records { return current.value }
        let value = try build(records, current?.value)
        current = (records, value)
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
