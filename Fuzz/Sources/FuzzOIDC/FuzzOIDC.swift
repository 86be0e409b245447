// libFuzzer entry for the OIDC parsers (CNSGW_FUZZ_TARGET: json, base64url, jws, jwe). Every input must end in a
// value or a thrown error: a crash, a leak or a hang is a bug.
import Crypto
import Foundation
import FuzzDriver
import OIDC
import _CryptoExtras

/// The keys the JWS and JWE targets verify and decrypt with: made once per process (no key is committed).
let signing = try! JWSSigningKey(kid: "fuzz", algorithm: "ES256", privateKeyPEM: P256.Signing.PrivateKey().pemRepresentation)
let verification = [try! signing.publicJWK()]
let decryption = try! JWEDecryptionKey(kid: "fuzz-enc", privateKeyPEM: try! _RSA.Encryption.PrivateKey(keySize: .bits2048).pemRepresentation)
let target = ProcessInfo.processInfo.environment["CNSGW_FUZZ_TARGET"] ?? "json"

/// The process entry SwiftPM links the executable with: libFuzzer's driver takes over.
@_cdecl("FuzzOIDC_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data!, size) }
}

func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    switch target {
    case "json":
        if let object = try? JSONObject.parse(bytes) {
            // What parses must write out and parse back to the same value (a number may come back as an integer of the
            // same value: 1e3 is written 1000).
            let again = try? JSONObject.parse(try! object.jsonData())
            precondition(again.map { same(.object($0), .object(object)) } == true, "JSON round trip changed the value")
        }
    case "base64url":
        if let decoded = Base64URL.decode(text) {
            precondition(Base64URL.decode(Base64URL.encode(decoded)) == decoded, "base64url round trip changed the bytes")
        }
    case "jws":
        _ = JWS.unverifiedClaims(text)
        _ = try? JWS.verify(text, keys: verification, allowed: Set(JWSAlgorithm.allCases), purpose: "fuzz")
    case "jwe":
        _ = try? decryption.decrypt(text)
    default:
        fatalError("unknown CNSGW_FUZZ_TARGET \(target)")
    }
    return 0
}

/// JSON equality by value: integers and numbers compare as numbers.
func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.integer(let x), .number(let y)), (.number(let y), .integer(let x)): return Double(x) == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
    case (.object(let x), .object(let y)): return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
    default: return a == b
    }
}
