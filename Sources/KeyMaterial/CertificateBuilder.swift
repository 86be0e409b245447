import Foundation
internal import COpenSSL

/// Builds X.509 certificates (the gateway's self-signed signing and development certificates, the test and demo PKI), with extensions given in OpenSSL's config syntax
/// (`"critical,digitalSignature"`), which keeps every profile readable in one place.
public struct CertificateBuilder: Sendable {
    /// Subject attributes in order, as (short name or OID, UTF-8 value): `("C","IT"), ("CN","...")`.
    public var subject: [(String, String)]
    public var serial: [UInt8]
    public var notBefore: Date
    public var notAfter: Date
    /// (extension name, value) in OpenSSL `x509v3_config` syntax, e.g. `("basicConstraints", "critical,CA:TRUE,pathlen:0")`.
    public var extensions: [(String, String)]
    /// The signature's digest: `sha256`, or `sha1` to imitate legacy CAs.
    public var digest: String = "sha256"

    public init(subject: [(String, String)], serial: [UInt8], notBefore: Date, notAfter: Date, extensions: [(String, String)]) {
        self.subject = subject
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.extensions = extensions
    }

    /// A random positive 16-byte serial number (RFC 5280 §4.1.2.2: at most 20 octets, positive, unpredictable).
    public static func randomSerial() -> [UInt8] {
        var serial = (0..<16).map { _ in UInt8.random(in: 0...255) }
        serial[0] = serial[0] & 0x7F | 0x01
        return serial
    }

    /// Signs the certificate for `key` with `issuerKey` (self-signed when `issuer` is nil).
    public func build(key: PrivateKey, issuer: X509Certificate?, issuerKey: PrivateKey) throws -> X509Certificate {
        guard let x = X509_new() else { throw KeyMaterialError("X509_new") }
        defer { X509_free(x) }
        let issuerRef = try issuer.map { try PKCS12Writer.reparse($0) }
        defer { if let issuerRef { X509_free(issuerRef) } }
        X509_set_version(x, 2)
        let bn = serial.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer { BN_free(bn) }
        guard let asn1Serial = BN_to_ASN1_INTEGER(bn, nil) else { throw KeyMaterialError("serial: \(drainErrors())") }
        X509_set_serialNumber(x, asn1Serial)
        ASN1_INTEGER_free(asn1Serial)
        ASN1_TIME_set(X509_getm_notBefore(x), time_t(notBefore.timeIntervalSince1970))
        ASN1_TIME_set(X509_getm_notAfter(x), time_t(notAfter.timeIntervalSince1970))
        X509_set_pubkey(x, key.ref)
        guard let name = X509_NAME_new() else { throw KeyMaterialError("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        for (field, value) in subject {
            let bytes = Array(value.utf8)
            guard X509_NAME_add_entry_by_txt(name, field, Int32(CNSGW_MBSTRING_UTF8), bytes, Int32(bytes.count), -1, 0) == 1 else {
                throw KeyMaterialError("subject field \(field): \(drainErrors())")
            }
        }
        X509_set_subject_name(x, name)
        X509_set_issuer_name(x, issuerRef.map { X509_get_subject_name($0) } ?? name)

        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, issuerRef ?? x, x, nil, nil, 0)
        let conf = cnsgw_X509V3_set_empty_conf(&ctx)
        defer { NCONF_free(conf) }
        for (field, value) in extensions {
            guard let ext = X509V3_EXT_conf(nil, &ctx, field, value) else {
                throw KeyMaterialError("extension \(field)=\(value): \(drainErrors())")
            }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard let md = EVP_get_digestbyname(digest), X509_sign(x, issuerKey.ref, md) > 0 else {
            throw KeyMaterialError("sign: \(drainErrors())")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = i2d_X509(x, &out)
        guard len > 0, let out else { throw KeyMaterialError("encode: \(drainErrors())") }
        let der = Array(UnsafeBufferPointer(start: out, count: Int(len)))
        cnsgw_free(out)
        return try X509Certificate(derEncoded: der)
    }
}

extension X509Certificate {
    /// PEM text of the certificate.
    public var pem: String {
        let b64 = Data(derBytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(b64)\n-----END CERTIFICATE-----\n"
    }
}

/// PKCS#12 bundles for browsers and curl.
public enum PKCS12Writer {
    /// A PKCS#12 file holding `key`, `certificate` and `chain`, protected by `password` (AES-256, PBKDF2).
    public static func make(key: PrivateKey, certificate: X509Certificate, chain: [X509Certificate], password: String, name: String) throws -> [UInt8] {
        let x = try reparse(certificate)
        defer { X509_free(x) }
        guard let stack = cnsgw_sk_X509_new() else { throw KeyMaterialError("stack") }
        var chainRefs: [OpaquePointer] = []
        defer { cnsgw_sk_X509_free(stack); chainRefs.forEach { X509_free($0) } }
        for c in chain { let r = try reparse(c); chainRefs.append(r); _ = cnsgw_sk_X509_push(stack, r) }
        guard let p12 = PKCS12_create(password, name, key.ref, x, stack, 0, 0, 0, 0, 0) else {
            throw KeyMaterialError("PKCS12_create: \(drainErrors())")
        }
        defer { PKCS12_free(p12) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = i2d_PKCS12(p12, &out)
        guard len > 0, let out else { throw KeyMaterialError("encode PKCS#12: \(drainErrors())") }
        defer { cnsgw_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(len)))
    }

    package static func reparse(_ c: X509Certificate) throws -> OpaquePointer {
        let x: OpaquePointer? = c.derBytes.withUnsafeBufferPointer { b in
            var p: UnsafePointer<UInt8>? = b.baseAddress
            return d2i_X509(nil, &p, b.count)
        }
        guard let x else { throw KeyMaterialError("reparse: \(drainErrors())") }
        return x
    }
}
