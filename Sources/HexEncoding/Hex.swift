/// Lowercase or uppercase hexadecimal of bytes, without Foundation's `String(format:)` (which costs a formatter
/// call per byte on hot paths: certificate serials, fingerprints, hashes).
public enum Hex {
    private static let lower = Array("0123456789abcdef".utf8)
    private static let upper = Array("0123456789ABCDEF".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes, uppercase: Bool = false) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { append(byte, to: &out, uppercase: uppercase) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the two hex digits of `byte` to `out` (for writers that escape byte by byte: `%XX`, `\u00xx`).
    public static func append(_ byte: UInt8, to out: inout [UInt8], uppercase: Bool = false) {
        let digits = uppercase ? upper : lower
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
}
