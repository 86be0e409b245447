// libFuzzer entry for the SAML parsers (CNSGW_FUZZ_TARGET: saml-redirect, saml-post, saml-post-xml, saml-time,
// saml-metadata, inflate). Every input must end in a value or a thrown error: a crash, a leak or a hang is a bug.
import Foundation
import FuzzDriver
import SAML

let target = ProcessInfo.processInfo.environment["CNSGW_FUZZ_TARGET"] ?? "saml-redirect"

/// The process entry SwiftPM links the executable with: libFuzzer's driver takes over.
@_cdecl("FuzzSAML_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data!, size) }
}

func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    switch target {
    case "saml-redirect":
        // The query string of an HTTP-Redirect binding: percent-decoding, base64, DEFLATE with a cap, XML.
        _ = try? IncomingMessage.redirect(rawQuery: text)
    case "saml-post":
        // The form value of an HTTP-POST binding: base64, then XML.
        _ = try? IncomingMessage.post(form: ["SAMLRequest": text, "RelayState": "rs"])
    case "saml-post-xml":
        // The XML inside a POST binding (the fuzzer mutates the document, the harness encodes it).
        _ = try? IncomingMessage.post(form: ["SAMLRequest": Data(bytes).base64EncodedString()])
    case "saml-time":
        if let date = SAMLTime.parse(text) {
            precondition(SAMLTime.parse(SAMLTime.format(date)) != nil, "a parsed xs:dateTime does not parse back")
        }
        _ = SAMLTime.parseDuration(text)
    case "saml-metadata":
        _ = try? ServiceProviderMetadata.parse(bytes, now: Date(timeIntervalSince1970: 1_796_000_000))
    case "inflate":
        _ = try? RawDeflate.inflate(bytes, limit: 1 << 20)
    default:
        fatalError("unknown CNSGW_FUZZ_TARGET \(target)")
    }
    return 0
}
