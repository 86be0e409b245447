import Metrics
import NIOConcurrencyHelpers

/// swift-metrics handles made once per label and dimensions, for the card step's per-request metrics.
///
/// `Counter(label:dimensions:)` asks the metrics backend for its handle each time; the Prometheus backend then validates
/// the name and labels and looks the series up under its lock, which cost as much as the counting on every card step.
/// The handles here are made on first use and kept. Dimensions come from closed sets (results, reasons, levels);
/// past `capacity` distinct series a handle is made each time instead of kept, so memory stays bounded.
final class MetricHandles: Sendable {
    private struct Key: Hashable {
        let label: String
        let dimensions: [String]
    }

    private let counters = NIOLockedValueBox<[Key: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: Timer]>([:])
    let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    /// The counter of `label` with `dimensions`, as `Counter(label:dimensions:)` makes it.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        if let known = counters.withLockedValue({ $0[key] }) { return known }
        let made = Counter(label: label, dimensions: dimensions)
        return counters.withLockedValue { counters in
            if let raced = counters[key] { return raced }
            if counters.count < capacity { counters[key] = made }
            return made
        }
    }

    /// The timer of `label` (no dimensions).
    func timer(_ label: String) -> Timer {
        if let known = timers.withLockedValue({ $0[label] }) { return known }
        let made = Timer(label: label)
        return timers.withLockedValue { timers in
            if let raced = timers[label] { return raced }
            if timers.count < capacity { timers[label] = made }
            return made
        }
    }
}
