import Foundation
internal import COpenSSL

/// A private key made by libcrypto: the gateway's signing keys and development server key, and the test PKI's keys.
/// (swift-crypto makes RSA and P-256 keys too, but not the RSA-1024 keys of CNS v1.0 test cards, and certificates
/// need the key as libcrypto's `EVP_PKEY`.)
public final class PrivateKey: @unchecked Sendable {
    // @unchecked Sendable: the EVP_PKEY is never mutated after generation.
    package let ref: OpaquePointer

    /// Key types: the gateway uses RSA-2048 and P-256; test cards also RSA-1024 (CNS v1.0) and RSA-4096.
    public enum Kind: String, Sendable, CaseIterable {
        case rsa1024, rsa2048, rsa4096, p256
    }

    public let kind: Kind

    public init(_ kind: Kind) throws {
        let key: OpaquePointer? = switch kind {
        case .rsa1024: cnsgw_generate_rsa(1024)
        case .rsa2048: cnsgw_generate_rsa(2048)
        case .rsa4096: cnsgw_generate_rsa(4096)
        case .p256: cnsgw_generate_p256()
        }
        guard let key else { throw KeyMaterialError("cannot generate a \(kind.rawValue) key: \(drainErrors())") }
        self.ref = key
        self.kind = kind
    }

    /// Loads a PEM private key written by ``pemPrivateKey``.
    public init(pem: String) throws {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw KeyMaterialError("not a PEM private key: \(drainErrors())") }
        self.ref = key
        let bits = EVP_PKEY_get_bits(key)
        self.kind = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? .p256 : bits <= 1024 ? .rsa1024 : bits <= 2048 ? .rsa2048 : .rsa4096
    }

    deinit { EVP_PKEY_free(ref) }

    /// PKCS#8 PEM, unencrypted.
    public var pemPrivateKey: String {
        withMemoryBIO { PEM_write_bio_PrivateKey($0, ref, nil, nil, 0, nil, nil) }
    }

    /// Signs `bytes` with SHA-256 (PKCS#1 v1.5 for RSA, ECDSA DER for EC): detached signatures in tests.
    public func signSHA256(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try sign($0) }
    }

    /// Signs `data` with SHA-256 (PKCS#1 v1.5 for RSA, ECDSA DER for EC).
    package func sign(_ data: UnsafeRawBufferPointer) throws -> [UInt8] {
        try sign(data, digest: .sha256, rsaPadding: .pkcs1)
    }

    /// The hash of a signature made by ``sign(_:digest:rsaPadding:)``.
    public enum Digest: Sendable { case sha256, sha384, sha512 }
    /// An RSA signature's padding: PKCS#1 v1.5, or PSS with MGF1 over the signature's hash and a salt as long as the hash
    /// (what TLS 1.3's `rsa_pss_rsae_*` schemes require).
    public enum RSAPadding: Sendable { case pkcs1, pss }

    /// Whether this is an RSA key (of any size).
    public var isRSA: Bool { EVP_PKEY_get_base_id(ref) == EVP_PKEY_RSA }

    /// Signs `data`, hashed with `digest`: RSA keys with `rsaPadding`, EC keys ECDSA (DER, `rsaPadding` ignored).
    public func sign(_ data: UnsafeRawBufferPointer, digest: Digest, rsaPadding: RSAPadding) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw KeyMaterialError("no digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        let md = switch digest {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
        var pkeyContext: OpaquePointer?
        guard EVP_DigestSignInit(ctx, &pkeyContext, md, nil, ref) == 1 else { throw KeyMaterialError("sign init: \(drainErrors())") }
        if rsaPadding == .pss, isRSA {
            guard EVP_PKEY_CTX_set_rsa_padding(pkeyContext, RSA_PKCS1_PSS_PADDING) == 1,
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pkeyContext, RSA_PSS_SALTLEN_DIGEST) == 1 else {
                throw KeyMaterialError("PSS padding: \(drainErrors())")
            }
        }
        let input = data.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, input, data.count) == 1 else { throw KeyMaterialError("sign: \(drainErrors())") }
        var out = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &out, &length, input, data.count) == 1 else { throw KeyMaterialError("sign: \(drainErrors())") }
        return Array(out.prefix(length))
    }

    /// DER AlgorithmIdentifier of the SHA-256 signature this key makes.
    package var signatureAlgorithmDER: [UInt8] {
        kind == .p256
            ? [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
            : [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00]
    }
}

/// A key or certificate could not be made or read (libcrypto's reason in the description).
public struct KeyMaterialError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

package func drainErrors() -> String { OpenSSLErrorQueue.drain() }

/// Runs `write` against a memory BIO and returns what it wrote as text.
package func withMemoryBIO(_ write: (OpaquePointer) -> Int32) -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { return "" }
    defer { BIO_free(bio) }
    _ = write(bio)
    var p: UnsafeMutablePointer<CChar>? = nil
    let n = cnsgw_BIO_mem_data(bio, &p)
    guard n > 0, let p else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
}

/// Signs data fed in pieces with SHA-256 (for CRLs of millions of entries written straight to disk).
package final class StreamingSigner {
    private let ctx: OpaquePointer

    package init(key: PrivateKey) throws {
        guard let ctx = EVP_MD_CTX_new() else { throw KeyMaterialError("no digest context") }
        self.ctx = ctx
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key.ref) == 1 else { throw KeyMaterialError("sign init: \(drainErrors())") }
    }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { EVP_DigestSignUpdate(ctx, bytes.baseAddress, bytes.count) }
    }

    package func finish() throws -> [UInt8] {
        var len = 0
        guard EVP_DigestSignFinal(ctx, nil, &len) == 1 else { throw KeyMaterialError("sign: \(drainErrors())") }
        var out = [UInt8](repeating: 0, count: len)
        guard EVP_DigestSignFinal(ctx, &out, &len) == 1 else { throw KeyMaterialError("sign: \(drainErrors())") }
        return Array(out.prefix(len))
    }

    deinit { EVP_MD_CTX_free(ctx) }
}
