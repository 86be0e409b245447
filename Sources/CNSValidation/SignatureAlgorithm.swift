import KeyMaterial
internal import COpenSSL

/// Signature algorithms accepted on CRLs, by OID, with the digest to stream.
enum SignatureAlgorithm {
    static func digest(forOID oid: String) -> OpaquePointer? {
        switch oid {
        case "1.2.840.113549.1.1.5", "1.2.840.10045.4.1": return EVP_sha1()
        case "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1": return EVP_sha224()
        case "1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2": return EVP_sha256()
        case "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3": return EVP_sha384()
        case "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4": return EVP_sha512()
        default: return nil
        }
    }
}

/// Verifies a signature over data fed in pieces (a CRL's tbsCertList, which may be hundreds of megabytes).
final class StreamingSignatureVerifier {
    private let ctx: OpaquePointer

    init(issuer: X509Certificate, algorithmOID: String) throws(CRLError) {
        guard let md = SignatureAlgorithm.digest(forOID: algorithmOID) else {
            throw CRLError(.unsupportedAlgorithm, "signature algorithm \(algorithmOID) is not supported")
        }
        guard let key = X509_get0_pubkey(issuer.ref), let ctx = EVP_MD_CTX_new() else {
            throw CRLError(.badSignature, "the issuer's public key cannot be read")
        }
        self.ctx = ctx
        guard EVP_DigestVerifyInit(ctx, nil, md, nil, key) == 1 else {
            let err = OpenSSLErrorQueue.drain()
            throw CRLError(.badSignature, "cannot verify with the issuer's key: \(err)")
        }
    }

    func update(_ p: UnsafePointer<UInt8>, count: Int) {
        if count > 0 { EVP_DigestVerifyUpdate(ctx, p, count) }
    }

    func verify(signature: [UInt8]) -> Bool {
        let ok = EVP_DigestVerifyFinal(ctx, signature, signature.count) == 1
        OpenSSLErrorQueue.clear()
        return ok
    }

    deinit { EVP_MD_CTX_free(ctx) }
}
