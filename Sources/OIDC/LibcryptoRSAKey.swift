import COpenSSL
import Foundation

/// An RSA private key held by the system libcrypto (OpenSSL 3), for RS256 signatures. swift-crypto's RSA signing
/// (its vendored BoringSSL) measured 1,560 signatures/s on these machines against OpenSSL's 3,800 (`bench/oidc.sh`),
/// and every token exchange signs two JWTs; the gateway already links libcrypto for certificate validation and
/// SAML signing, so RS256 uses it too. ECDSA and every verification stay on swift-crypto.
final class LibcryptoRSAKey: @unchecked Sendable {
    // @unchecked Sendable: the EVP_PKEY is never changed after loading; OpenSSL 3 allows concurrent signing with it.
    private let key: OpaquePointer

    init(pem: String) throws {
        // The memory BIO reads the string in place, so the key is parsed while the C string exists.
        let loaded: OpaquePointer? = pem.withCString { text in
            guard let bio = BIO_new_mem_buf(text, Int32(strlen(text))) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key = loaded, EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            if let loaded { EVP_PKEY_free(loaded) }
            ERR_clear_error()
            throw OIDCError(.serverError, reason: "key_load", "the signing key is not an RSA private key in PEM")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    func signSHA256(_ data: Data) throws -> Data {
        guard let ctx = EVP_MD_CTX_new() else { throw OIDCError(.serverError, reason: "sign", "no digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        var length = 0
        let ok = data.withUnsafeBytes { bytes -> Bool in
            let input = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1, EVP_DigestSign(ctx, nil, &length, input, bytes.count) == 1 else { return false }
            return true
        }
        var signature = Data(count: length)
        let signed = ok && data.withUnsafeBytes { bytes in
            signature.withUnsafeMutableBytes { out in
                EVP_DigestSign(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count) == 1
            }
        }
        guard signed else {
            ERR_clear_error()
            throw OIDCError(.serverError, reason: "sign", "libcrypto could not sign with the RSA key")
        }
        return signature.prefix(length)
    }
}
