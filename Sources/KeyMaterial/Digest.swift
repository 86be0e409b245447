import CodedErrors
import HexEncoding
internal import COpenSSL

/// One-shot digests through libcrypto.
package enum Digest {
    package static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        bytes.withUnsafeBytes { b in _ = EVP_Digest(b.baseAddress, b.count, &out, &len, EVP_sha256(), nil) }
        return out
    }

    package static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
}
