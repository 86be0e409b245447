import CNSValidation
import Foundation
import KeyMaterial

/// One revoked certificate in a test CRL.
public struct TestCRLEntry: Sendable, Hashable {
    public var serial: [UInt8]
    public var revokedAt: Date
    public var reason: CRLReason?
    public init(serial: [UInt8], revokedAt: Date, reason: CRLReason? = nil) {
        self.serial = serial
        self.revokedAt = revokedAt
        self.reason = reason
    }
}

/// Writes signed v2 CRLs: small ones in memory, huge synthetic ones streamed to a file.
public struct TestCRLBuilder {
    public var issuer: X509Certificate
    public var issuerKey: PrivateKey
    public var thisUpdate: Date
    public var nextUpdate: Date?
    public var crlNumber: UInt64?
    /// Makes a delta CRL against this base CRL number.
    public var deltaBaseCRLNumber: UInt64?
    /// Issuing distribution point URIs (critical IDP extension).
    public var distributionPointURIs: [String]
    /// Extra CRL extensions (already DER-encoded Extension SEQUENCEs), for tests of unknown critical extensions.
    public var extraExtensions: [[UInt8]]

    public init(issuer: X509Certificate, issuerKey: PrivateKey, thisUpdate: Date, nextUpdate: Date?, crlNumber: UInt64? = 1,
                deltaBaseCRLNumber: UInt64? = nil, distributionPointURIs: [String] = [], extraExtensions: [[UInt8]] = []) {
        self.issuer = issuer
        self.issuerKey = issuerKey
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.crlNumber = crlNumber
        self.deltaBaseCRLNumber = deltaBaseCRLNumber
        self.distributionPointURIs = distributionPointURIs
        self.extraExtensions = extraExtensions
    }

    /// A freshestCRL extension (where delta CRLs are published), for ``extraExtensions``.
    public static func freshestCRLExtension(uri: String) -> [UInt8] {
        DER.extension("2.5.29.46", value: DER.sequence(DER.sequence(DER.tlv(0xA0, DER.tlv(0xA0, DER.tlv(0x86, Array(uri.utf8)))))))
    }

    /// An arbitrary extension, for tests of unknown (critical) extensions.
    public static func customExtension(oid: String, critical: Bool, value: [UInt8] = [0x05, 0x00]) -> [UInt8] {
        DER.extension(oid, critical: critical, value: value)
    }

    static func entryDER(_ e: TestCRLEntry) -> [UInt8] {
        var ext: [UInt8] = []
        if let reason = e.reason {
            ext = DER.sequence(DER.extension("2.5.29.21", value: DER.tlv(0x0A, [reason.rawValue])))
        }
        return DER.sequence(DER.integer(e.serial), DER.time(e.revokedAt), ext)
    }

    private var extensionsDER: [UInt8] {
        var exts: [UInt8] = []
        if let crlNumber { exts += DER.extension("2.5.29.20", value: DER.integer(crlNumber)) }
        if let deltaBaseCRLNumber { exts += DER.extension("2.5.29.27", critical: true, value: DER.integer(deltaBaseCRLNumber)) }
        if !distributionPointURIs.isEmpty {
            let names = distributionPointURIs.flatMap { DER.tlv(0x86, Array($0.utf8)) }
            exts += DER.extension("2.5.29.28", critical: true, value: DER.sequence(DER.tlv(0xA0, DER.tlv(0xA0, names))))
        }
        exts += extraExtensions.flatMap { $0 }
        return exts.isEmpty ? [] : DER.tlv(0xA0, DER.tlv(0x30, exts))
    }

    private func tbsPrefix() -> [UInt8] {
        [0x02, 0x01, 0x01] + issuerKey.signatureAlgorithmDER + issuer.subjectNameDER + DER.time(thisUpdate)
            + (nextUpdate.map(DER.time) ?? [])
    }

    /// A DER CRL listing `entries`.
    public func build(entries: [TestCRLEntry]) throws -> [UInt8] {
        let list = entries.isEmpty ? [] : DER.tlv(0x30, entries.flatMap(Self.entryDER))
        let tbs = DER.tlv(0x30, tbsPrefix() + list + extensionsDER)
        let signature = try tbs.withUnsafeBytes { try issuerKey.sign($0) }
        return DER.sequence(tbs, issuerKey.signatureAlgorithmDER, DER.tlv(0x03, [0] + signature))
    }

    /// Streams a CRL of `count` pseudo-random 16-byte serials (each with a reason code) plus `listed` to `path`,
    /// and returns its size. `listed` serials must be 16 bytes with the top bit clear, like the synthetic ones.
    @discardableResult
    public func writeSynthetic(count: Int, listed: [TestCRLEntry] = [], seed: UInt64 = 1, to path: String) throws -> Int {
        let entrySize = 49
        for e in listed where e.serial.count != 16 || e.serial[0] & 0x80 != 0 || e.serial[0] == 0 {
            throw TestPKIError("listed serials must be 16 bytes, positive, without a leading zero")
        }
        let total = count + listed.count
        let listHeader = total > 0 ? DER.header(0x30, length: total * entrySize) : []
        let prefix = tbsPrefix()
        let ext = extensionsDER
        let tbsLength = prefix.count + listHeader.count + total * entrySize + ext.count
        let tbsHeader = DER.header(0x30, length: tbsLength)
        let signer = try StreamingSigner(key: issuerKey)
        let revokedTime = DER.time(thisUpdate.addingTimeInterval(-86_400))
        guard revokedTime.count == 15 else { throw TestPKIError("synthetic CRLs use UTCTime dates") }
        assert(revokedTime.count == 15, "synthetic CRLs use UTCTime dates")

        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TestPKIError("cannot write \(path)") }
        defer { try? handle.close() }
        // The outer SEQUENCE header needs the signature length: sign a probe to learn it (RSA: fixed; EC: varies,
        // so EC keys are refused here).
        guard issuerKey.kind != .p256 else { throw TestPKIError("synthetic CRLs need an RSA issuer key") }
        let sigLength = try [UInt8](repeating: 0, count: 1).withUnsafeBytes { try issuerKey.sign($0) }.count
        let sigPart = issuerKey.signatureAlgorithmDER + DER.header(0x03, length: sigLength + 1) + [0]
        let outerLength = tbsHeader.count + tbsLength + sigPart.count + sigLength
        try handle.write(contentsOf: DER.header(0x30, length: outerLength))

        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 20)
        func emit(_ bytes: [UInt8], signed: Bool = true) throws {
            buffer += bytes
            if buffer.count >= 1 << 20 { try flush(signed: signed) }
        }
        func flush(signed: Bool) throws {
            if signed { buffer.withUnsafeBytes { signer.update($0) } }
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        try emit(tbsHeader + prefix + listHeader)
        var serials = SyntheticSerials(seed: seed)
        var entry: [UInt8] = [0x30, 47, 0x02, 16] + [UInt8](repeating: 0, count: 16) + revokedTime
            + [0x30, 0x0C, 0x30, 0x0A, 0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01, 0x01]
        for i in 0..<count {
            entry.withUnsafeMutableBufferPointer { serials.write(into: UnsafeMutableBufferPointer(rebasing: $0[4..<20])) }
            entry[entrySize - 1] = i % 3 == 0 ? CRLReason.keyCompromise.rawValue : CRLReason.superseded.rawValue
            buffer += entry
            if buffer.count >= 1 << 20 { try flush(signed: true) }
        }
        for e in listed {
            var fixed = Array(entry)
            fixed.replaceSubrange(4..<20, with: e.serial)
            fixed.replaceSubrange(20..<35, with: DER.time(e.revokedAt))
            fixed[entrySize - 1] = (e.reason ?? .unspecified).rawValue
            try emit(fixed)
        }
        try emit(ext)
        try flush(signed: true)
        let signature = try signer.finish()
        guard signature.count == sigLength else { throw TestPKIError("signature length changed") }
        try handle.write(contentsOf: sigPart + signature)
        return DER.header(0x30, length: outerLength).count + outerLength
    }
}

/// The serials of a synthetic CRL, reproducible from the seed (so benchmarks can probe listed serials).
public struct SyntheticSerials: Sequence, IteratorProtocol {
    private var state: UInt64

    public init(seed: UInt64 = 1) { state = seed }

    /// Writes the next 16-byte positive serial into `out`.
    public mutating func write(into out: UnsafeMutableBufferPointer<UInt8>) {
        for half in 0..<2 {
            state &+= 0x9E37_79B9_7F4A_7C15   // SplitMix64
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for k in 0..<8 { out[half * 8 + k] = UInt8(truncatingIfNeeded: z >> (56 - 8 * k)) }
        }
        out[0] = out[0] & 0x7F | 0x01
    }

    public mutating func next() -> [UInt8]? {
        var serial = [UInt8](repeating: 0, count: 16)
        serial.withUnsafeMutableBufferPointer { write(into: $0) }
        return serial
    }
}
