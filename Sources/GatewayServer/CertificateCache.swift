import CNSValidation
import KeyMaterial

/// Parsed card certificates by their exact DER, so a card seen again (the same citizen's next login, another
/// service the same day) is not parsed again. Parsing is the costliest step of a decision with OpenSSL 3.0, whose
/// public-key decoder is rebuilt for every certificate; the decision itself (path, revocation, time, identity) is
/// always made anew. Bounded: when full, an arbitrary half is dropped. Size 0 turns it off.
public final class CertificateCache: Sendable {
    private let parsed: BoundedMemo<[UInt8], X509Certificate>
    public var capacity: Int { parsed.capacity }

    public init(capacity: Int) {
        parsed = BoundedMemo(capacity: capacity)
    }

    /// The certificate for `der`, parsed now or earlier.
    public func certificate(_ der: [UInt8]) throws -> X509Certificate {
        try parsed.value(for: der) { try X509Certificate(derEncoded: der) }
    }
}
