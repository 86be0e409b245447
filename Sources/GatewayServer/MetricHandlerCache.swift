import CoreMetrics

/// A metrics backend that makes each counter, timer and recorder series' handler once and hands the same one out
/// again (meters and floating-point counters, which the gateway does not use, go straight to the base).
///
/// swift-metrics asks its factory for a handler every time a `Counter`, `Timer` or `Recorder` is created, and the
/// gateway creates them where it counts (per request). The Prometheus backend then validates the name and labels and
/// looks the series up under its lock, which cost as much as the counting on every card step. Installed around the
/// process's backend at bootstrap, so every place that counts keeps writing `Counter(label:dimensions:)`. Bounded per
/// kind (labels come from closed sets: results, reasons, levels, listeners); a destroyed handler is forgotten.
public struct MetricHandlerCache: MetricsFactory {
    struct Series: Hashable, Sendable {
        let label: String
        let dimensions: [String]
        let aggregate: Bool

        init(_ label: String, _ dimensions: [(String, String)], aggregate: Bool = false) {
            self.label = label
            self.dimensions = dimensions.flatMap { [$0.0, $0.1] }
            self.aggregate = aggregate
        }
    }

    let base: any MetricsFactory
    let counters: BoundedMemo<Series, any CounterHandler>
    let timers: BoundedMemo<Series, any TimerHandler>
    let recorders: BoundedMemo<Series, any RecorderHandler>

    /// Handlers of `base`, at most `capacity` of each kind remembered.
    public init(_ base: any MetricsFactory, capacity: Int = 1024) {
        self.base = base
        counters = BoundedMemo(capacity: capacity)
        timers = BoundedMemo(capacity: capacity)
        recorders = BoundedMemo(capacity: capacity)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.value(for: Series(label, dimensions)) { base.makeCounter(label: label, dimensions: dimensions) }
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        recorders.value(for: Series(label, dimensions, aggregate: aggregate)) {
            base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        timers.value(for: Series(label, dimensions)) { base.makeTimer(label: label, dimensions: dimensions) }
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        counters.forget { $0 === handler }
        base.destroyCounter(handler)
    }

    public func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        recorders.forget { $0 === handler }
        base.destroyRecorder(handler)
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        timers.forget { $0 === handler }
        base.destroyTimer(handler)
    }
}
