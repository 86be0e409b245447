import Foundation
import KeyMaterial
internal import COpenSSL

/// A CA the admin trusts, with what they decided about it.
public struct TrustAnchor: Sendable {
    public let certificate: X509Certificate
    public var policy: AnchorPolicy
    /// A label for logs and lists (defaults to the subject's CN).
    public var name: String

    public init(certificate: X509Certificate, policy: AnchorPolicy, name: String? = nil) {
        self.certificate = certificate
        self.policy = policy
        self.name = name ?? certificate.subjectAttribute("2.5.4.3") ?? certificate.subject
    }
}

/// The CAs an admin configured, and only those: never the system's or any public root store.
///
/// Immutable: a change of configuration builds a new `TrustStore`, which callers swap in atomically.
public struct TrustStore: Sendable {
    public let anchors: [TrustAnchor]
    /// Untrusted CA certificates that may complete a path (sub-CAs a client does not send).
    public let intermediates: [X509Certificate]
    let store: VerificationStore

    public init(anchors: [TrustAnchor], intermediates: [X509Certificate] = []) throws {
        for anchor in anchors where !anchor.certificate.isCA {
            throw CertificateLoadError(.notACertificateAuthority,
                "\(anchor.certificate.subject) cannot issue certificates (no CA basic constraint), so it cannot be a trust anchor")
        }
        self.anchors = anchors
        self.intermediates = intermediates
        self.store = try VerificationStore(anchors: anchors.map(\.certificate))
    }

    /// Loads anchors from files or folders (PEM/DER), all with `policy`, plus optional intermediates.
    public static func load(anchorPaths: [String], policy: AnchorPolicy = AnchorPolicy(),
                            intermediatePaths: [String] = []) throws -> TrustStore {
        var anchors: [TrustAnchor] = []
        var seen = Set<[UInt8]>()
        for path in anchorPaths {
            for cert in try CertificateLoader.certificates(atPath: path) where seen.insert(cert.sha256Fingerprint).inserted {
                anchors.append(TrustAnchor(certificate: cert, policy: policy))
            }
        }
        let intermediates = try intermediatePaths.flatMap { try CertificateLoader.certificates(atPath: $0) }
        return try TrustStore(anchors: anchors, intermediates: intermediates)
    }

    /// The anchor whose certificate is `certificate`, if any.
    public func anchor(for certificate: X509Certificate) -> TrustAnchor? {
        anchors.first { $0.certificate.sha256Fingerprint == certificate.sha256Fingerprint }
    }

    /// Anchors whose certificate has expired at `date` (their cards can no longer validate).
    public func expiredAnchors(at date: Date) -> [TrustAnchor] {
        anchors.filter { $0.certificate.notAfter < date }
    }
}

/// Owns an OpenSSL `X509_STORE` holding exactly the anchors. Thread-safe for concurrent verifications:
/// OpenSSL locks the store's internal lookups, which is how every TLS server shares one store.
final class VerificationStore: @unchecked Sendable {
    let ref: OpaquePointer

    init(anchors: [X509Certificate]) throws {
        guard let store = X509_STORE_new() else { throw CertificateLoadError(.malformed, "cannot allocate an X509_STORE") }
        ref = store
        for cert in anchors where X509_STORE_add_cert(store, cert.ref) != 1 {
            let err = OpenSSLErrorQueue.drain()
            if !err.contains("already in hash table") {
                throw CertificateLoadError(.malformed, "cannot add \(cert.subject) to the trust store: \(err)")
            }
        }
        OpenSSLErrorQueue.clear()
    }

    deinit { X509_STORE_free(ref) }
}
