import CNSValidation
import KeyMaterial
import NIOConcurrencyHelpers

/// Parsed card certificates by their exact DER, so a card seen again (the same citizen's next login, another
/// service the same day) is not parsed again. Parsing is the costliest step of a decision with OpenSSL 3.0, whose
/// public-key decoder is rebuilt for every certificate; the decision itself (path, revocation, time, identity) is
/// always made anew. Bounded: when full, an arbitrary half is dropped. Size 0 turns it off.
public final class CertificateCache: Sendable {
    private let entries = NIOLockedValueBox<[[UInt8]: X509Certificate]>([:])
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The certificate for `der`, parsed now or earlier.
    public func certificate(_ der: [UInt8]) throws -> X509Certificate {
        guard capacity > 0 else { return try X509Certificate(derEncoded: der) }
        if let hit = entries.withLockedValue({ $0[der] }) { return hit }
        let parsed = try X509Certificate(derEncoded: der)
        entries.withLockedValue { cache in
            if cache.count >= capacity {
                for key in cache.keys.prefix(capacity / 2 + 1) { cache[key] = nil }
            }
            cache[der] = parsed
        }
        return parsed
    }
}
