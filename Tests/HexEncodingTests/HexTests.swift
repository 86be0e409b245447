import Crypto
import Foundation
import HexEncoding
import Testing

/// `Hex.encode` against Foundation's `%02x`/`%02X` formatting, for every byte value and for each kind of sequence the
/// gateway passes (arrays, array slices, `Data`, swift-crypto digests, and a sequence with no contiguous storage).
@Suite struct HexTests {
    static func formatted(_ bytes: [UInt8], uppercase: Bool) -> String {
        bytes.map { String(format: uppercase ? "%02X" : "%02x", $0) }.joined()
    }

    @Test func everyByteValueInBothCases() {
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.encode(all) == Self.formatted(all, uppercase: false))
        #expect(Hex.encode(all, uppercase: true) == Self.formatted(all, uppercase: true))
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func everyKindOfSequenceGivesTheSameDigits() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 31, 32, 33, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Self.formatted(bytes, uppercase: false)
            #expect(Hex.encode(bytes) == expected)
            #expect(Hex.encode(Data(bytes)) == expected)
            #expect(Hex.encode(bytes[...]) == expected)
            #expect(Hex.encode(bytes.lazy.map { $0 }) == expected)
            bytes.withUnsafeBytes { #expect(Hex.encode($0) == expected) }
        }
        let digest = SHA256.hash(data: Data("cnsgw".utf8))
        #expect(Hex.encode(digest) == Self.formatted(Array(digest), uppercase: false))
        #expect(Hex.encode(digest).count == 64)
    }

    @Test func appendWritesTwoDigitsPerByte() {
        var out: [UInt8] = Array("x".utf8)
        Hex.append(0xAF, to: &out)
        Hex.append(0x0B, to: &out, uppercase: true)
        #expect(String(decoding: out, as: UTF8.self) == "xaf0B")
    }
}
