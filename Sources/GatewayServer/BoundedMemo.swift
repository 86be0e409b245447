import NIOConcurrencyHelpers

/// Values made once per key and remembered, for work that would otherwise repeat on every request (parsing a card
/// seen before, decoding a requester's host, looking up a metric's series). Bounded: when full, an arbitrary half is
/// forgotten. Capacity 0 remembers nothing.
final class BoundedMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = NIOLockedValueBox<[Key: Value]>([:])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The value remembered for `key`, or what `make` makes now (outside the lock; two callers that miss at once may
    /// both make it, and the later one's value stays).
    func value(for key: Key, make: () throws -> Value) rethrows -> Value {
        guard capacity > 0 else { return try make() }
        if let known = entries.withLockedValue({ $0[key] }) { return known }
        let made = try make()
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                for key in entries.keys.prefix(capacity / 2 + 1) { entries[key] = nil }
            }
            entries[key] = made
        }
        return made
    }

    /// Forgets the values `matching` selects.
    func forget(where matching: (Value) -> Bool) {
        entries.withLockedValue { entries in entries = entries.filter { !matching($0.value) } }
    }

    /// How many values are remembered now.
    var count: Int { entries.withLockedValue { $0.count } }
}
