// libFuzzer entry for the PKI parsers (CNSGW_FUZZ_TARGET: crl, crl-index, certificate, ocsp, trusted-list). Every
// input must end in a value or a thrown error: a crash, a leak or a hang is a bug. The CRL and OCSP targets check
// against the committed fixture issuer (Fuzz/Fixtures, public certificates only), which signed the seeds.
import Foundation
import FuzzDriver
import KeyMaterial
import XMLSecurity
@testable import CNSValidation
@testable import TrustedList

let target = ProcessInfo.processInfo.environment["CNSGW_FUZZ_TARGET"] ?? "crl"
let fixtures = ProcessInfo.processInfo.environment["CNSGW_FUZZ_FIXTURES"] ?? "Fuzz/Fixtures"
let issuerPEM = try! CertificateLoader.readFile(fixtures + "/issuer.pem")
let issuer = try! CertificateLoader.certificates(from: issuerPEM)[0]
let leaf = try! CertificateLoader.certificates(atPath: fixtures + "/leaf.pem")[0]
/// A time inside the seeds' validity (their thisUpdate is 2026-12-03T12:00Z).
let now = Date(timeIntervalSince1970: 1_796_300_000)

/// The process entry SwiftPM links the executable with: libFuzzer's driver takes over.
@_cdecl("FuzzPKI_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data!, size) }
}

func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "crl":
        // DER, or PEM when it looks like one, as `cnsgw crl` and the CRL fetcher read them.
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed = text.contains("-----BEGIN") ? try? CertificateRevocationList.parse(pem: text, issuer: issuer)
                                                 : try? CertificateRevocationList.parse(bytes, issuer: issuer)
        if let parsed {
            // What parses must answer lookups: the fixture leaf and a serial of every length.
            _ = parsed.entries.entry(forSerial: leaf.serialNumber)
            for length in 0..<3 { _ = parsed.entries.entry(forSerial: [UInt8](repeating: 0x7F, count: length)) }
        }
    case "crl-index":
        fuzzRevokedSerialIndex(bytes)
    case "certificate":
        // DER or PEM (one or several certificates), as trust-anchor files and uploads are read.
        if let certificates = try? CertificateLoader.certificates(from: bytes) {
            for certificate in certificates { _ = certificate.description }
        }
    case "ocsp":
        // A responder's answer about the fixture leaf, checked against the fixture issuer.
        let exchange = try! OCSPExchange(certificate: leaf, issuer: issuer, nonce: false)
        _ = try? exchange.evaluate(bytes, issuer: issuer, responder: "http://127.0.0.1/ocsp", nonce: false, now: now,
                                   clockSkew: 300, maximumAge: 3600)
    case "trusted-list":
        // The whole load (XML parsing, the XAdES signature check), and the reader behind it on whatever parses, so
        // that the reader is reached although a mutated list never verifies.
        _ = try? TrustedList.load(bytes, signer: issuerPEM, now: now)
        if let document = try? ParsedXML(bytes, maximumSize: 32 << 20) { _ = try? TrustedList.read(document.root) }
    default:
        fatalError("unknown CNSGW_FUZZ_TARGET \(target)")
    }
    return 0
}

/// The revoked-serial index against a plain set: every appended serial is found, and a serial is found exactly when
/// the set holds it. Input: serials in hexadecimal, one per line (a CRL entry's INTEGER content, 1 to 40 bytes).
func fuzzRevokedSerialIndex(_ bytes: [UInt8]) {
    func normalised(_ s: [UInt8]) -> [UInt8] { var s = s[...]; while s.count > 1, s.first == 0 { s = s.dropFirst() }; return Array(s) }
    let serials: [[UInt8]] = String(decoding: bytes, as: UTF8.self).split(separator: "\n").prefix(4096).compactMap { line in
        let hex = line.count % 2 == 0 ? Substring(line) : "0" + line
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let byte = UInt8(hex[i..<j], radix: 16) else { return nil }
            out.append(byte)
            i = j
        }
        return (1...40).contains(out.count) ? out : nil
    }
    var index = RevokedSerialIndex(expectedCount: serials.count)
    for (n, serial) in serials.enumerated() {
        serial.withUnsafeBufferPointer { index.append(serial: $0, date: Int64(n), reason: UInt8(n % 11)) }
    }
    index.seal()
    let set = Set(serials.map(normalised))
    for serial in serials {
        precondition(index.entry(forSerial: serial) != nil, "an appended serial is not found")
        var other = serial
        other[other.count - 1] ^= 0x01
        precondition((index.entry(forSerial: other) != nil) == set.contains(normalised(other)), "the index and the set disagree")
        precondition((index.entry(forSerial: [0] + serial) != nil), "a serial with a leading zero byte is not found")
    }
}
