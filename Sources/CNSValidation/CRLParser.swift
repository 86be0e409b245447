import Foundation
import KeyMaterial
internal import COpenSSL

/// One pass over a DER CRL: header checks, entries into the index, extensions, and the signature digest streamed
/// over tbsCertList as the entries are read (RFC 5280 §5).
struct CRLParser {
    let base: UnsafePointer<UInt8>
    let count: Int
    let issuer: X509Certificate
    let limits: CRLLimits
    /// Called with the offset below which bytes will not be read again.
    let dropConsumed: ((Int) -> Void)?

    private static let reasonCodeOID: [UInt8] = [0x55, 0x1D, 0x15]
    private static let invalidityDateOID: [UInt8] = [0x55, 0x1D, 0x18]
    private static let certificateIssuerOID: [UInt8] = [0x55, 0x1D, 0x1D]

    func parse() throws(CRLError) -> CertificateRevocationList {
        if let ku = issuer.keyUsage, ku & UInt32(KU_CRL_SIGN) == 0 {
            throw CRLError(.issuerCannotSignCRLs, "\(issuer.subject) has no cRLSign key usage, so its CRLs cannot be trusted")
        }
        var top = DERCursor(base: base, position: 0, end: count)
        let certList = try top.read(expecting: 0x30, "CertificateList")
        guard top.isAtEnd else { throw CRLError(.malformed, "trailing bytes after the CRL") }
        var outer = top.inside(certList)
        let tbs = try outer.read(expecting: 0x30, "tbsCertList")
        let outerAlgorithm = try outer.read(expecting: 0x30, "signatureAlgorithm")
        let signatureBits = try outer.read(expecting: 0x03, "signatureValue")
        guard outer.isAtEnd, signatureBits.length >= 1, base[signatureBits.contentStart] == 0 else {
            throw CRLError(.malformed, "bad signature field")
        }

        var t = outer.inside(tbs)
        var version = 0
        if t.peekTag() == 0x02 {
            let v = try t.read()
            guard v.length == 1, base[v.contentStart] == 1 else { throw CRLError(.malformed, "unsupported CRL version") }
            version = 2
        }
        let innerAlgorithm = try t.read(expecting: 0x30, "signature")
        guard t.wholeBytes(innerAlgorithm) == outer.wholeBytes(outerAlgorithm) else {
            throw CRLError(.malformed, "the inner and outer signature algorithms differ")
        }
        var algCursor = t.inside(innerAlgorithm)
        let algorithmOID = algCursor.oid(try algCursor.read(expecting: 0x06, "algorithm OID"))
        let verifier = try StreamingSignatureVerifier(issuer: issuer, algorithmOID: algorithmOID)

        let issuerName = try t.read(expecting: 0x30, "issuer")
        try checkIssuerName(t.wholeBytes(issuerName))
        let thisUpdate = try t.time(try t.read())
        var nextUpdate: Int64?
        if let tag = t.peekTag(), tag == 0x17 || tag == 0x18 { nextUpdate = try t.time(try t.read()) }

        // Entries, hashing tbsCertList as we go so each page is read once.
        var hashed = tbs.start
        let chunk = 8 << 20
        func advanceDigest(to offset: Int) {
            guard offset - hashed >= chunk else { return }
            verifier.update(base + hashed, count: offset - hashed)
            hashed = offset
            dropConsumed?(offset)
        }
        var index = RevokedSerialIndex(expectedCount: 0)
        if t.peekTag() == 0x30 {
            let list = try t.read()
            index = RevokedSerialIndex(expectedCount: min(list.length / 32, limits.maximumEntries))
            var entries = t.inside(list)
            var n = 0
            while !entries.isAtEnd {
                let entry = try entries.read(expecting: 0x30, "revoked certificate entry")
                var e = entries.inside(entry)
                let serial = try e.read(expecting: 0x02, "userCertificate")
                guard serial.length >= 1, serial.length <= 40 else { throw CRLError(.malformed, "bad serial at byte \(serial.start)") }
                let date = try e.time(try e.read())
                var reason: UInt8 = 0xFF
                if !e.isAtEnd {
                    reason = try entryExtensions(&e)
                    guard e.isAtEnd else { throw CRLError(.malformed, "extra fields in the entry at byte \(entry.start)") }
                }
                index.append(serial: UnsafeBufferPointer(start: base + serial.contentStart, count: serial.length), date: date, reason: reason)
                n += 1
                if n > limits.maximumEntries {
                    throw CRLError(.tooLarge, "the CRL has more than \(limits.maximumEntries) entries (the configured limit)")
                }
                if n & 0xFFF == 0 { advanceDigest(to: entries.position) }
            }
        }
        var extensions = CRLExtensions()
        if t.peekTag() == 0xA0 {
            guard version == 2 else { throw CRLError(.malformed, "a v1 CRL cannot have extensions") }
            let wrapper = try t.read()
            var w = t.inside(wrapper)
            let seq = try w.read(expecting: 0x30, "crlExtensions")
            extensions = try CRLExtensions.parse(cursor: w.inside(seq))
        }
        guard t.isAtEnd else { throw CRLError(.malformed, "unexpected field at the end of tbsCertList") }
        if version == 2 && extensions.crlNumber == nil {
            throw CRLError(.malformed, "the CRL has no CRL number (RFC 5280 §5.2.3 requires one)")
        }
        verifier.update(base + hashed, count: tbs.contentEnd - hashed)
        dropConsumed?(tbs.contentEnd)
        let signature = Array(UnsafeBufferPointer(start: base + signatureBits.contentStart + 1, count: signatureBits.length - 1))
        guard verifier.verify(signature: signature) else {
            throw CRLError(.badSignature, "the CRL's signature does not verify with the key of \(issuer.subject)")
        }
        index.seal()
        return CertificateRevocationList(
            issuer: issuer.subject, thisUpdate: Date(timeIntervalSince1970: TimeInterval(thisUpdate)),
            nextUpdate: nextUpdate.map { Date(timeIntervalSince1970: TimeInterval($0)) },
            crlNumber: extensions.crlNumber, deltaBaseCRLNumber: extensions.deltaBase,
            distributionPointURIs: extensions.distributionPointURIs, onlyUser: extensions.onlyUser, onlyCA: extensions.onlyCA,
            freshest: extensions.freshestURIs, signatureAlgorithm: algorithmOID, entries: index, sizeInBytes: count)
    }

    private func checkIssuerName(_ der: [UInt8]) throws(CRLError) {
        let name: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509_NAME(nil, &p, buf.count)
        }
        guard let name else { throw CRLError(.malformed, "the issuer name cannot be decoded") }
        defer { X509_NAME_free(name) }
        guard X509_NAME_cmp(name, X509_get_subject_name(issuer.ref)) == 0 else {
            let shown = X509Certificate.rfc2253(name)
            throw CRLError(.issuerMismatch, "the CRL was issued by \(shown), not by \(issuer.subject)")
        }
    }

    /// Reads crlEntryExtensions; returns the reason code (0xFF = none).
    private func entryExtensions(_ e: inout DERCursor) throws(CRLError) -> UInt8 {
        let seq = try e.read(expecting: 0x30, "crlEntryExtensions")
        var x = e.inside(seq)
        var reason: UInt8 = 0xFF
        while !x.isAtEnd {
            let ext = try x.read(expecting: 0x30, "Extension")
            var f = x.inside(ext)
            let oid = try f.read(expecting: 0x06, "extnID")
            var critical = false
            if f.peekTag() == 0x01 { let b = try f.read(); critical = b.length == 1 && base[b.contentStart] != 0 }
            let value = try f.read(expecting: 0x04, "extnValue")
            let oidBytes = UnsafeBufferPointer(start: base + oid.contentStart, count: oid.length)
            if oidBytes.elementsEqual(Self.reasonCodeOID) {
                var v = f.inside(value)
                let en = try v.read(expecting: 0x0A, "CRLReason")
                guard en.length == 1, base[en.contentStart] <= 10, base[en.contentStart] != 7 else {
                    throw CRLError(.malformed, "bad reason code at byte \(en.start)")
                }
                reason = base[en.contentStart]
            } else if oidBytes.elementsEqual(Self.certificateIssuerOID) {
                throw CRLError(.unsupportedScope, "indirect CRL entries (certificateIssuer) are not supported")
            } else if critical && !oidBytes.elementsEqual(Self.invalidityDateOID) {
                throw CRLError(.unhandledCriticalExtension, "an entry has an unknown critical extension \(f.oid(oid))")
            }
        }
        return reason
    }
}

/// The CRL-level extensions the gateway understands (RFC 5280 §5.2).
struct CRLExtensions {
    var crlNumber: [UInt8]?
    var deltaBase: [UInt8]?
    var distributionPointURIs: [String] = []
    var onlyUser = false
    var onlyCA = false
    var freshestURIs: [String] = []

    static func parse(cursor: DERCursor) throws(CRLError) -> CRLExtensions {
        var c = cursor
        var result = CRLExtensions()
        while !c.isAtEnd {
            let ext = try c.read(expecting: 0x30, "Extension")
            var f = c.inside(ext)
            let oid = f.oid(try f.read(expecting: 0x06, "extnID"))
            var critical = false
            if f.peekTag() == 0x01 { let b = try f.read(); critical = b.length == 1 && f.base[b.contentStart] != 0 }
            let value = try f.read(expecting: 0x04, "extnValue")
            var v = f.inside(value)
            switch oid {
            case "2.5.29.20":
                if critical { throw CRLError(.malformed, "the CRL number extension is critical; RFC 5280 §5.2.3 requires it non-critical") }
                result.crlNumber = v.bytes(try v.read(expecting: 0x02, "CRLNumber"))
            case "2.5.29.27":
                result.deltaBase = v.bytes(try v.read(expecting: 0x02, "BaseCRLNumber"))
            case "2.5.29.28":
                try result.parseIssuingDistributionPoint(v.inside(try v.read(expecting: 0x30, "IssuingDistributionPoint")))
            case "2.5.29.46":
                result.freshestURIs = try uris(inDistributionPoints: v.inside(try v.read(expecting: 0x30, "FreshestCRL")))
            case "2.5.29.35", "2.5.29.18", "2.5.29.60":
                break   // authorityKeyIdentifier, issuerAltName, expiredCertsOnCRL: informative
            default:
                if critical { throw CRLError(.unhandledCriticalExtension, "the CRL has an unknown critical extension \(oid)") }
            }
        }
        return result
    }

    private mutating func parseIssuingDistributionPoint(_ cursor: DERCursor) throws(CRLError) {
        var c = cursor
        while !c.isAtEnd {
            let e = try c.read()
            switch e.tag {
            case 0xA0: distributionPointURIs = try Self.fullNameURIs(c.inside(e))
            case 0x81: onlyUser = e.length == 1 && c.base[e.contentStart] != 0
            case 0x82: onlyCA = e.length == 1 && c.base[e.contentStart] != 0
            case 0x83: throw CRLError(.unsupportedScope, "the CRL covers only some revocation reasons (onlySomeReasons)")
            case 0x84: throw CRLError(.unsupportedScope, "indirect CRLs are not supported")
            case 0x85: throw CRLError(.unsupportedScope, "the CRL covers attribute certificates only")
            default: throw CRLError(.malformed, "unknown field in issuingDistributionPoint")
            }
        }
    }

    /// URIs of a DistributionPointName's fullName ([0] GeneralNames, URI = [6]).
    static func fullNameURIs(_ cursor: DERCursor) throws(CRLError) -> [String] {
        var c = cursor
        var out: [String] = []
        while !c.isAtEnd {
            let name = try c.read()
            guard name.tag == 0xA0 else { continue }   // nameRelativeToCRLIssuer: no URI
            var g = c.inside(name)
            while !g.isAtEnd {
                let gn = try g.read()
                if gn.tag == 0x86 { out.append(String(decoding: g.bytes(gn), as: UTF8.self)) }
            }
        }
        return out
    }

    static func uris(inDistributionPoints cursor: DERCursor) throws(CRLError) -> [String] {
        var c = cursor
        var out: [String] = []
        while !c.isAtEnd {
            var dp = c.inside(try c.read(expecting: 0x30, "DistributionPoint"))
            while !dp.isAtEnd {
                let field = try dp.read()
                if field.tag == 0xA0 { out += try fullNameURIs(dp.inside(field)) }
            }
        }
        return out
    }
}
