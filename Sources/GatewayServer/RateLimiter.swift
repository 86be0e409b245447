import Foundation
import NIOConcurrencyHelpers

/// Per-address token buckets for the endpoints that create state (authorization, SSO, card step, token): each
/// address may make `burst` requests at once and `perSecond` on average. In memory, per instance: a limit that the
/// instances of a cluster share would need a round trip to the database on every request, and a flood is absorbed
/// by every instance alike. Written by hand because none of the server libraries in use offers one.
public final class RateLimiter: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused; seconds until a request would be allowed again.
        case refused(retryAfter: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: TimeInterval
    }

    private let perSecond: Double
    private let burst: Double
    /// At most this many addresses are tracked; past it, full buckets are dropped first (they hold no state).
    private let maximumAddresses: Int
    private let buckets = NIOLockedValueBox([String: Bucket]())
    private let now: @Sendable () -> TimeInterval

    public init(perSecond: Double, burst: Int, maximumAddresses: Int = 100_000,
                now: @escaping @Sendable () -> TimeInterval = { ProcessInfo.processInfo.systemUptime }) {
        self.perSecond = perSecond
        self.burst = Double(max(1, burst))
        self.maximumAddresses = maximumAddresses
        self.now = now
    }

    /// Takes one token for `address`.
    public func take(_ address: String) -> Decision {
        let t = now()
        return buckets.withLockedValue { buckets in
            var bucket = buckets[address] ?? Bucket(tokens: burst, updated: t)
            bucket.tokens = min(burst, bucket.tokens + (t - bucket.updated) * perSecond)
            bucket.updated = t
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                decision = .refused(retryAfter: max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))))
            }
            if buckets.count >= maximumAddresses, buckets[address] == nil {
                let burst = self.burst, perSecond = self.perSecond
                buckets = buckets.filter { $0.value.tokens + (t - $0.value.updated) * perSecond < burst }
            }
            buckets[address] = bucket
            return decision
        }
    }
}
