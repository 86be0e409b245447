import Foundation
import KeyMaterial
import NIOCore
import NIOSSL

/// The listeners' RSA private key, signing each TLS handshake through the system's OpenSSL 3 rather than
/// swift-nio-ssl's built-in BoringSSL (through swift-nio-ssl's documented hook for keys it does not hold itself).
///
/// The server's signature is the dearest step of a handshake with an RSA certificate, and on CPUs with AVX-512 IFMA
/// OpenSSL 3 makes an RSA-2048 signature in about 0.6 of BoringSSL's time (`cnsgw-bench rsa-sign` measures both on
/// the machine at hand); BoringSSL has no such code path. Everything else in the handshake stays with swift-nio-ssl.
/// Only ECDHE cipher suites are offered (``GatewayApplication/forwardSecretCipherSuites``), so the key is never asked
/// to decrypt an RSA key exchange.
struct OpenSSLServerKey: NIOSSLCustomPrivateKey, Hashable {
    let key: PrivateKey

    /// An RSA key from a PEM file, or nil for another kind of key (which stays with BoringSSL).
    init?(pemFile path: String) throws {
        let key = try PrivateKey(pem: try String(contentsOfFile: path, encoding: .utf8))
        guard key.isRSA else { return nil }
        self.key = key
    }

    var signatureAlgorithms: [SignatureAlgorithm] {
        [.rsaPssRsaeSha256, .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384, .rsaPkcs1Sha512]
    }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        let scheme: (PrivateKey.Digest, PrivateKey.RSAPadding)
        switch algorithm {
        case .rsaPssRsaeSha256: scheme = (.sha256, .pss)
        case .rsaPssRsaeSha384: scheme = (.sha384, .pss)
        case .rsaPssRsaeSha512: scheme = (.sha512, .pss)
        case .rsaPkcs1Sha256: scheme = (.sha256, .pkcs1)
        case .rsaPkcs1Sha384: scheme = (.sha384, .pkcs1)
        case .rsaPkcs1Sha512: scheme = (.sha512, .pkcs1)
        default: return channel.eventLoop.makeFailedFuture(Unsupported(operation: "a signature with TLS scheme 0x\(String(algorithm.rawValue, radix: 16))"))
        }
        do {
            let signature = try data.withUnsafeReadableBytes { try key.sign($0, digest: scheme.0, rsaPadding: scheme.1) }
            return channel.eventLoop.makeSucceededFuture(ByteBuffer(bytes: signature))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(Unsupported(operation: "an RSA key exchange"))
    }

    /// A handshake asked for what this key never offers (a scheme outside ``signatureAlgorithms``, an RSA key exchange,
    /// which no offered cipher suite uses); the handshake fails with it and the client sees an alert.
    struct Unsupported: Error, CustomStringConvertible {
        let operation: String
        var description: String {
            "the TLS server key was asked for \(operation), which the gateway does not offer; a client that insists is refused (check the listener's cipher suites if this recurs)"
        }
    }

    static func == (a: OpenSSLServerKey, b: OpenSSLServerKey) -> Bool { a.key === b.key }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(key)) }
}
