import Foundation

/// Minimal DER encoding for the test PKI's CRLs (OpenSSL's CRL API sorts and re-encodes on every add, far too
/// slow for the multi-million-entry CRLs the benchmarks need).
enum DER {
    static func length(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 { bytes.insert(UInt8(v & 0xFF), at: 0); v >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }
    static func header(_ tag: UInt8, length n: Int) -> [UInt8] { [tag] + length(n) }
    static func sequence(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }

    /// A positive INTEGER from big-endian magnitude bytes.
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var m = Array(magnitude.drop { $0 == 0 })
        if m.isEmpty { m = [0] }
        if m[0] & 0x80 != 0 { m.insert(0, at: 0) }
        return tlv(0x02, m)
    }

    static func integer(_ v: UInt64) -> [UInt8] {
        integer(withUnsafeBytes(of: v.bigEndian) { Array($0) })
    }

    /// UTCTime before 2050, GeneralizedTime after (RFC 5280 §5.1.2.4).
    static func time(_ date: Date) -> [UInt8] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date).year!
        if year < 2050 {
            f.dateFormat = "yyMMddHHmmss'Z'"
            return tlv(0x17, Array(f.string(from: date).utf8))
        }
        f.dateFormat = "yyyyMMddHHmmss'Z'"
        return tlv(0x18, Array(f.string(from: date).utf8))
    }

    static func oid(_ dotted: String) -> [UInt8] {
        let parts = dotted.split(separator: ".").map { Int($0)! }
        var body: [UInt8] = [UInt8(parts[0] * 40 + parts[1])]
        for p in parts.dropFirst(2) {
            var chunk: [UInt8] = [UInt8(p & 0x7F)]
            var v = p >> 7
            while v > 0 { chunk.insert(UInt8(0x80 | (v & 0x7F)), at: 0); v >>= 7 }
            body += chunk
        }
        return tlv(0x06, body)
    }

    static func `extension`(_ oid: String, critical: Bool = false, value: [UInt8]) -> [UInt8] {
        sequence(DER.oid(oid), critical ? [0x01, 0x01, 0xFF] : [], tlv(0x04, value))
    }
}
