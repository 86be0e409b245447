import CodedErrors
import Foundation
import HexEncoding
import ItalianIdentity
internal import COpenSSL

/// An immutable, parsed X.509 certificate.
///
/// Backed by OpenSSL's `X509` because swift-certificates cannot parse the RSA-1024 keys of CNS v1.0 cards
/// (STACK.md §6). Everything a caller needs is read once at init into Swift values; the C object never leaves
/// this module.
public final class X509Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    // @unchecked Sendable: `ref` is never mutated after init, and OpenSSL 3 guards its lazily computed
    // extension cache with a lock, so concurrent reads from several tasks are safe.
    package let ref: OpaquePointer

    /// The DER encoding, as received.
    public let derBytes: [UInt8]
    /// Subject in RFC 2253 form (`CN=...,O=...,C=IT`).
    public let subject: String
    /// DER encoding of the subject Name (what CRLs and OCSP responses name as their issuer).
    public let subjectNameDER: [UInt8]
    public let issuer: String
    /// Subject attributes in DN order, for identity mapping.
    public let subjectAttributes: [SubjectAttribute]
    /// Serial number magnitude, big-endian, without leading zero bytes.
    public let serialNumber: [UInt8]
    public let notBefore: Date
    public let notAfter: Date
    public let sha256Fingerprint: [UInt8]
    /// `digitalSignature` = 0x80, `nonRepudiation` = 0x40, ... as in OpenSSL's `KU_*`; `nil` when the extension is absent.
    public let keyUsage: UInt32?
    /// Extended key usage OIDs; `nil` when the extension is absent.
    public let extendedKeyUsage: [String]?
    /// Certificate policy OIDs; empty when the extension is absent.
    public let policies: [String]
    public let crlDistributionPoints: [String]
    public let ocspResponders: [String]
    public let isCA: Bool
    /// `RSA`, `EC`, `ED25519`, ...
    public let publicKeyAlgorithm: String
    public let publicKeyBits: Int
    /// OpenSSL's long name of the signature algorithm, e.g. `sha1WithRSAEncryption`.
    public let signatureAlgorithm: String
    /// Whether the signature uses SHA-1 (decided once here: the card step asks for every certificate of every chain).
    public let usesSHA1Signature: Bool
    /// Whether the serial is encoded as a negative number (forbidden by RFC 5280 §4.1.2.2).
    public let serialIsNegative: Bool
    /// Criticality of extensions the RFC 5280 supplement checks, by name: absent keys mean absent extensions.
    package let criticality: [String: Bool]

    /// Parses one DER certificate. Throws ``CertificateLoadError`` with the library's reason when it is not one.
    public convenience init(derEncoded der: [UInt8]) throws {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
        guard let parsed else {
            throw CertificateLoadError(.malformed, "not a DER X.509 certificate (\(OpenSSLErrorQueue.drain()))")
        }
        try self.init(owning: parsed)
    }

    /// Takes ownership of one reference to `x509`.
    package init(owning x509: OpaquePointer) throws {
        // A class's deinit does not run when its init throws before every stored property is set, so the reference
        // taken over is freed here on those paths (a malformed certificate leaked one X509 per request; found by the
        // proxy-header fuzz target). Every throw below comes before the last property is set.
        var complete = false
        defer { if !complete { X509_free(x509) } }
        ref = x509
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = i2d_X509(x509, &out)
        guard len > 0, let out else {
            throw CertificateLoadError(.malformed, "certificate cannot be re-encoded (\(OpenSSLErrorQueue.drain()))")
        }
        derBytes = Array(UnsafeBufferPointer(start: out, count: Int(len)))
        cnsgw_free(out)

        subject = X509Certificate.rfc2253(X509_get_subject_name(x509))
        var nameOut: UnsafeMutablePointer<UInt8>? = nil
        let nameLen = i2d_X509_NAME(X509_get_subject_name(x509), &nameOut)
        guard nameLen > 0, let nameOut else { throw CertificateLoadError(.malformed, "the subject name cannot be encoded") }
        subjectNameDER = Array(UnsafeBufferPointer(start: nameOut, count: Int(nameLen)))
        cnsgw_free(nameOut)
        issuer = X509Certificate.rfc2253(X509_get_issuer_name(x509))
        subjectAttributes = X509Certificate.lines { cnsgw_name_entries(X509_get_subject_name(x509), $0, $1) }?.compactMap { line in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return SubjectAttribute(oid: String(line[..<eq]), value: String(line[line.index(after: eq)...]))
        } ?? []
        let serial = X509_get0_serialNumber(x509)
        let serialBytes = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(serial), count: Int(ASN1_STRING_length(serial))))
        serialNumber = Array(serialBytes.drop { $0 == 0 })
        var ok: Int32 = 0
        let nb = cnsgw_asn1_time_to_unix(X509_get0_notBefore(x509), &ok)
        guard ok == 1 else { throw CertificateLoadError(.malformed, "notBefore is not a valid time") }
        let na = cnsgw_asn1_time_to_unix(X509_get0_notAfter(x509), &ok)
        guard ok == 1 else { throw CertificateLoadError(.malformed, "notAfter is not a valid time") }
        notBefore = Date(timeIntervalSince1970: TimeInterval(nb))
        notAfter = Date(timeIntervalSince1970: TimeInterval(na))
        sha256Fingerprint = Digest.sha256(derBytes)

        // X509_get_extension_flags also parses (and caches) every extension; EXFLAG_INVALID marks a broken one.
        let flags = X509_get_extension_flags(x509)
        if flags & UInt32(EXFLAG_INVALID) != 0 {
            throw CertificateLoadError(.malformed, "an extension is malformed (\(OpenSSLErrorQueue.drain()))")
        }
        keyUsage = flags & UInt32(EXFLAG_KUSAGE) != 0 ? X509_get_key_usage(x509) : nil
        extendedKeyUsage = X509Certificate.lines { cnsgw_eku_oids(x509, $0, $1) }
        policies = X509Certificate.lines { cnsgw_policy_oids(x509, $0, $1) } ?? []
        crlDistributionPoints = X509Certificate.lines { cnsgw_crl_distribution_uris(x509, $0, $1) } ?? []
        ocspResponders = X509Certificate.lines { cnsgw_ocsp_uris(x509, $0, $1) } ?? []
        isCA = X509_check_ca(x509) != 0
        if let key = X509_get0_pubkey(x509) {
            publicKeyBits = Int(EVP_PKEY_get_bits(key))
            publicKeyAlgorithm = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
        } else {
            publicKeyBits = 0
            publicKeyAlgorithm = "unknown"
        }
        signatureAlgorithm = String(cString: OBJ_nid2ln(X509_get_signature_nid(x509)))
        usesSHA1Signature = signatureAlgorithm.lowercased().contains("sha1")
        serialIsNegative = cnsgw_serial_is_negative(x509) == 1
        var crit: [String: Bool] = [:]
        for (name, nid) in [("nameConstraints", NID_name_constraints), ("policyConstraints", NID_policy_constraints),
                            ("basicConstraints", NID_basic_constraints)] {
            let c = cnsgw_extension_criticality(x509, nid)
            if c >= 0 { crit[name] = c == 1 }
        }
        criticality = crit
        complete = true
        OpenSSLErrorQueue.clear()
    }

    deinit { X509_free(ref) }

    /// The SHA-256 fingerprint as lowercase hex: the stable id of a trusted CA.
    public var fingerprintHex: String { Digest.hex(sha256Fingerprint) }

    /// Serial number as uppercase hex (`0A1B…`).
    public var serialHex: String { serialNumber.isEmpty ? "00" : Hex.encode(serialNumber, uppercase: true) }

    /// Whether subject and issuer are the same name.
    public var isSelfIssued: Bool { X509_NAME_cmp(X509_get_subject_name(ref), X509_get_issuer_name(ref)) == 0 }

    /// The value of a subject attribute by OID, first occurrence.
    public func subjectAttribute(_ oid: String) -> String? { subjectAttributes.first { $0.oid == oid }?.value }

    /// Whether `self` names `issuer` as its issuer (canonical name comparison).
    package func isIssued(byName issuerCert: X509Certificate) -> Bool {
        X509_NAME_cmp(X509_get_issuer_name(ref), X509_get_subject_name(issuerCert.ref)) == 0
    }

    public var description: String { subject }

    public static func == (a: X509Certificate, b: X509Certificate) -> Bool { a.derBytes == b.derBytes }
    public func hash(into h: inout Hasher) { h.combine(sha256Fingerprint) }

    // MARK: helpers

    package static func rfc2253(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        X509_NAME_print_ex(bio, name, 0, CNSGW_XN_FLAG_RFC2253_UTF8)
        var p: UnsafeMutablePointer<CChar>? = nil
        let n = cnsgw_BIO_mem_data(bio, &p)
        guard n > 0, let p else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// Calls a `cnsgw_*` reader that writes '\n'-separated values; `nil` when it reports the extension absent.
    package static func lines(_ reader: (UnsafeMutablePointer<CChar>?, Int32) -> Int32) -> [String]? {
        var capacity: Int32 = 1024
        while true {
            var buffer = [CChar](repeating: 0, count: Int(capacity))
            let n = buffer.withUnsafeMutableBufferPointer { reader($0.baseAddress, capacity) }
            if n < 0 { OpenSSLErrorQueue.clear(); return nil }
            if n <= capacity {
                let text = String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
            }
            capacity = n + 1
        }
    }
}
