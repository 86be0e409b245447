import Foundation
import KeyMaterial
internal import COpenSSL

/// A parsed, signature-checked CRL held as a compact ``RevokedSerialIndex``.
public struct CertificateRevocationList: Sendable {
    public let issuer: String
    public let thisUpdate: Date
    /// `nil` when the CRL names no next update (then it is never fresh: RFC 5280 requires one).
    public let nextUpdate: Date?
    /// CRL number (big-endian magnitude), required in v2 CRLs.
    public let crlNumber: [UInt8]?
    /// Non-nil for a delta CRL: the base CRL number it applies to.
    public let deltaBaseCRLNumber: [UInt8]?
    /// Issuing distribution point full-name URIs (empty: the CRL covers all the issuer's certificates).
    public let distributionPointURIs: [String]
    public let onlyContainsUserCertificates: Bool
    public let onlyContainsCACertificates: Bool
    /// Where the issuer publishes delta CRLs (freshestCRL extension).
    public let freshestCRLURIs: [String]
    public let signatureAlgorithm: String
    public let entries: RevokedSerialIndex
    public let sizeInBytes: Int

    public var isDelta: Bool { deltaBaseCRLNumber != nil }

    /// Whether the CRL may be relied on at `date` (thisUpdate ≤ date < nextUpdate).
    public func isFresh(at date: Date) -> Bool {
        guard let nextUpdate else { return false }
        return thisUpdate <= date && date < nextUpdate
    }

    /// Reads a DER CRL file (memory-mapped, pages dropped as they are parsed, so the resident cost is the index).
    public static func load(contentsOf path: String, issuer: X509Certificate, limits: CRLLimits = CRLLimits()) throws(CRLError) -> CertificateRevocationList {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw CRLError(.unreadable, "cannot read \(path): \(error)") }
        if file.count > 0, file.base[0] == UInt8(ascii: "-") {
            // PEM: small enough in practice to decode in memory (large CRLs are published as DER).
            let text = String(decoding: UnsafeBufferPointer(start: file.base, count: min(file.count, limits.maximumBytes)), as: UTF8.self)
            return try parse(pem: text, issuer: issuer, limits: limits)
        }
        guard file.count <= limits.maximumBytes else {
            throw CRLError(.tooLarge, "\(path) is \(file.count) bytes; the configured limit is \(limits.maximumBytes)")
        }
        return try CRLParser(base: file.base, count: file.count, issuer: issuer, limits: limits,
                             dropConsumed: { file.drop(upTo: $0) }).parse()
    }

    /// Parses a PEM `X509 CRL` block.
    public static func parse(pem: String, issuer: X509Certificate, limits: CRLLimits = CRLLimits()) throws(CRLError) -> CertificateRevocationList {
        guard let begin = pem.range(of: "-----BEGIN X509 CRL-----"), let end = pem.range(of: "-----END X509 CRL-----"),
              begin.upperBound <= end.lowerBound else {
            throw CRLError(.malformed, "not a PEM CRL (no BEGIN/END X509 CRL lines)")
        }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(body)) else { throw CRLError(.malformed, "the PEM CRL is not valid base64") }
        return try parse([UInt8](der), issuer: issuer, limits: limits)
    }

    /// Parses DER bytes held in memory.
    public static func parse(_ der: [UInt8], issuer: X509Certificate, limits: CRLLimits = CRLLimits()) throws(CRLError) -> CertificateRevocationList {
        guard der.count <= limits.maximumBytes else { throw CRLError(.tooLarge, "the CRL is \(der.count) bytes; the limit is \(limits.maximumBytes)") }
        let result: Result<CertificateRevocationList, CRLError> = der.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return .failure(CRLError(.malformed, "the CRL is empty")) }
            do throws(CRLError) {
                return .success(try CRLParser(base: base, count: buf.count, issuer: issuer, limits: limits, dropConsumed: nil).parse())
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    init(issuer: String, thisUpdate: Date, nextUpdate: Date?, crlNumber: [UInt8]?, deltaBaseCRLNumber: [UInt8]?,
         distributionPointURIs: [String], onlyUser: Bool, onlyCA: Bool, freshest: [String], signatureAlgorithm: String,
         entries: RevokedSerialIndex, sizeInBytes: Int) {
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.crlNumber = crlNumber
        self.deltaBaseCRLNumber = deltaBaseCRLNumber
        self.distributionPointURIs = distributionPointURIs
        self.onlyContainsUserCertificates = onlyUser
        self.onlyContainsCACertificates = onlyCA
        self.freshestCRLURIs = freshest
        self.signatureAlgorithm = signatureAlgorithm
        self.entries = entries
        self.sizeInBytes = sizeInBytes
    }
}

/// Guards against hostile or runaway CRLs.
public struct CRLLimits: Sendable, Hashable {
    public var maximumBytes: Int
    public var maximumEntries: Int
    public init(maximumBytes: Int = 2 << 30, maximumEntries: Int = 50_000_000) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
    }
}

/// Compares two big-endian unsigned integers given as bytes.
func compareUnsigned(_ a: [UInt8], _ b: [UInt8]) -> Int {
    let x = Array(a.drop { $0 == 0 }), y = Array(b.drop { $0 == 0 })
    if x.count != y.count { return x.count < y.count ? -1 : 1 }
    for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
    return 0
}
