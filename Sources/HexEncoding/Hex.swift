/// Lowercase or uppercase hexadecimal of bytes, without Foundation's `String(format:)` (which costs a formatter
/// call per byte on hot paths: certificate serials, fingerprints, hashes).
public enum Hex {
    /// The hexadecimal of `bytes`: two digits per byte, lowercase unless `uppercase`.
    ///
    /// Inlinable so that each caller's sequence type (an array, `Data`, a swift-crypto digest) is iterated by
    /// specialised code; across the module boundary the generic loop went through witness tables for every byte, which
    /// the card step's hashes and fingerprints paid for on every request.
    @inlinable
    public static func encode<Bytes: Sequence>(_ bytes: Bytes, uppercase: Bool = false) -> String where Bytes.Element == UInt8 {
        if let contiguous = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0), uppercase: uppercase) }) {
            return contiguous
        }
        return Array(bytes).withUnsafeBytes { encode($0, uppercase: uppercase) }
    }

    /// The hexadecimal of the bytes in `buffer`.
    public static func encode(_ buffer: UnsafeRawBufferPointer, uppercase: Bool = false) -> String {
        let digits: UInt8 = uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")
        return String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            var index = 0
            for byte in buffer {
                out[index] = digit(byte >> 4, letters: digits)
                out[index + 1] = digit(byte & 0x0F, letters: digits)
                index += 2
            }
            return index
        }
    }

    /// Appends the two digits of `byte` to `out`.
    public static func append(_ byte: UInt8, to out: inout [UInt8], uppercase: Bool = false) {
        let letters: UInt8 = uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")
        out.append(digit(byte >> 4, letters: letters))
        out.append(digit(byte & 0x0F, letters: letters))
    }

    @inline(__always)
    static func digit(_ nibble: UInt8, letters: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : letters + nibble - 10
    }
}
