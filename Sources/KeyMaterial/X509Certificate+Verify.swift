import Foundation
internal import COpenSSL

extension X509Certificate {
    /// Digests a signature may use with ``verifies(signature:over:digest:)``.
    public enum SignatureDigest: String, Sendable, CaseIterable {
        case sha1, sha256, sha384, sha512
    }

    /// Whether `signature` is this certificate's key's signature (RSA PKCS#1 v1.5 or ECDSA) over `data`. An ECDSA
    /// signature may be DER or the raw `r||s` of XML-DSig.
    public func verifies(signature: [UInt8], over data: [UInt8], digest: SignatureDigest) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let key = X509_get0_pubkey(ref), let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let md: OpaquePointer? = switch digest {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
        guard EVP_DigestVerifyInit(ctx, nil, md, nil, key) == 1 else { return false }
        var signatureBytes = signature
        if EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, signature.first != 0x30, signature.count % 2 == 0,
           let der = Self.ecdsaDER(raw: signature) {
            signatureBytes = der
        }
        return data.withUnsafeBufferPointer { d in
            signatureBytes.withUnsafeBufferPointer { s in EVP_DigestVerify(ctx, s.baseAddress, s.count, d.baseAddress, d.count) == 1 }
        }
    }

    /// `r||s` (XML-DSig's ECDSA encoding) as a DER ECDSA-Sig-Value.
    package static func ecdsaDER(raw: [UInt8]) -> [UInt8]? {
        let half = raw.count / 2
        guard let sig = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(sig) }
        let r = raw[..<half].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let s = raw[half...].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        guard let r, let s, ECDSA_SIG_set0(sig, r, s) == 1 else { return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(sig, &out)
        guard length > 0, let out else { return nil }
        defer { cnsgw_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
