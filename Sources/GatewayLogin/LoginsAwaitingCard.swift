import Foundation
import GatewayStorage
import Synchronization

/// The logins this process has just started, each held until its card step takes it, once: the card step, the busiest
/// step of a login, then starts from the record this process wrote instead of reading it back (a read was about 5% of
/// the card step's CPU in a `perf` profile of bench/card-logins.sh).
///
/// A held record may be out of date — another instance on the same PostgreSQL moved the login on, or it was removed —
/// and that is safe: everything the card step reads from it before the update is fixed when the login starts
/// (requester, level, `forceFresh`, start and expiry), and the update itself starts from it only while the stored
/// version is still the one held (``GatewayStorage/updatePendingLogin(from:_:)``), deciding on the stored record
/// otherwise. Any other step reads storage. At most `capacity` records are held; the oldest give way.
public final class LoginsAwaitingCard: Sendable {
    private struct State {
        var records: [String: PendingLoginRecord] = [:]
        /// The IDs in the order they were held, as a ring: the slot reused next holds the oldest.
        var order: [String?]
        var next = 0
    }

    private let state: Mutex<State>

    /// Holds at most `capacity` logins (a few hundred bytes each).
    public init(capacity: Int = 10_000) {
        state = Mutex(State(order: Array(repeating: nil, count: max(1, capacity))))
    }

    /// Holds `record`, just stored, with its instants as storage keeps them (milliseconds).
    func hold(_ record: PendingLoginRecord) {
        var held = record
        held.createdAt = Date(storageMilliseconds: record.createdAt.storageMilliseconds)
        held.expiresAt = Date(storageMilliseconds: record.expiresAt.storageMilliseconds)
        state.withLock { state in
            if let oldest = state.order[state.next] { state.records[oldest] = nil }
            state.order[state.next] = held.id
            state.next = (state.next + 1) % state.order.count
            state.records[held.id] = held
        }
    }

    /// The login `id` if it is held, which it then no longer is.
    func take(_ id: String) -> PendingLoginRecord? {
        state.withLock { $0.records.removeValue(forKey: id) }
    }

    /// How many logins are held now.
    public var count: Int { state.withLock { $0.records.count } }
}
