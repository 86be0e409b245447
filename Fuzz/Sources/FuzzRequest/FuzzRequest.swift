// libFuzzer entry for what the gateway decodes from requests (CNSGW_FUZZ_TARGET: proxy-header, form). Every input
// must end in a value or a thrown error: a crash, a leak or a hang is a bug.
import Foundation
import FuzzDriver
import HTTPTypes
import KeyMaterial
import RequestDecoding

let target = ProcessInfo.processInfo.environment["CNSGW_FUZZ_TARGET"] ?? "form"

/// The process entry SwiftPM links the executable with: libFuzzer's driver takes over.
@_cdecl("FuzzRequest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data!, size) }
}

func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "proxy-header":
        // First byte: the configured format; the rest: the header value (rfc9440: Client-Cert, a newline, then
        // Client-Cert-Chain). The same value also goes through the forwarded-address headers.
        guard let first = bytes.first else { return 0 }
        let format = ProxyCertificateHeader.Format.allCases[Int(first) % 3]
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        var fields = HTTPFields()
        switch format {
        case .rfc9440:
            let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            fields[ProxyCertificateHeader.clientCert] = String(parts[0])
            if parts.count > 1 { fields[ProxyCertificateHeader.clientCertChain] = String(parts[1]) }
        case .nginx, .apache:
            fields[ProxyCertificateHeader.sslClientCert] = text
        }
        _ = ProxyCertificateHeader.unexpected(in: fields, format: format)
        if let chain = try? ProxyCertificateHeader.chain(from: fields, format: format) {
            // The gateway parses what the proxy forwarded as certificates next.
            for der in chain { _ = try? X509Certificate(derEncoded: der) }
        }
        var forwarded = HTTPFields()
        forwarded[HTTPField.Name("X-Forwarded-For")!] = text
        forwarded[HTTPField.Name("Forwarded")!] = text
        for header in ForwardedAddressHeader.allCases { _ = header.clientAddress(in: forwarded) }
    case "form":
        let text = String(decoding: bytes, as: UTF8.self)
        let all = URLEncodedForm.decode(text)
        let single = URLEncodedForm.decode(text, dropRepeated: true)
        // Dropping repeated names only ever removes fields.
        for (name, value) in single { precondition(all[name] == value, "dropRepeated changed a field") }
    default:
        fatalError("unknown CNSGW_FUZZ_TARGET \(target)")
    }
    return 0
}
