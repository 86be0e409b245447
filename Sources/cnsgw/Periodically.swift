import Foundation
import ServiceLifecycle

/// The loop of every background service of `cnsgw serve`: `body`, then a pause of `interval` seconds, until a
/// graceful shutdown cancels it. With `waitFirst` the first pause comes before the first run.
func periodically(every interval: TimeInterval, waitFirst: Bool = false, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        if waitFirst { try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000)) }
        while !Task.isCancelled {
            await body()
            try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        }
    }
}
