import CNSValidation
import KeyMaterial

/// Parsed card certificates by their exact DER, so a card seen again (the same citizen's next login, another
/// service the same day) is not parsed again. Parsing is the costliest step of a decision with OpenSSL 3.0, whose
/// public-key decoder is rebuilt for every certificate; the decision itself (path, revocation, time, identity) is
/// always made anew. Bounded: when full, an arbitrary half is dropped. Size 0 turns it off.
public final class CertificateCache: Sendable {
    private let parsed: BoundedMemo<DERKey, X509Certificate>
    public var capacity: Int { parsed.capacity }

    public init(capacity: Int) {
        parsed = BoundedMemo(capacity: capacity)
    }

    /// The certificate for `der`, parsed now or earlier.
    public func certificate(_ der: [UInt8]) throws -> X509Certificate {
        try parsed.value(for: DERKey(bytes: der)) { try X509Certificate(derEncoded: der) }
    }
}

/// A certificate's DER as a dictionary key, hashed in one pass over its bytes. `[UInt8]`'s own `hash(into:)` feeds the
/// hasher one byte at a time: for a 1.5 KB card that was most of the cache lookup's time in a `perf` profile of the
/// card step. Equality is still the whole DER.
struct DERKey: Hashable, Sendable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
