/// A bounds-checked reader of DER TLVs over raw bytes.
///
/// Hand-written because swift-asn1 materialises a node tree for the whole input, which for a CRL of millions
/// of entries costs far more memory and time than the CRL itself; this reader walks the bytes in place.
struct DERCursor {
    let base: UnsafePointer<UInt8>
    var position: Int
    let end: Int

    struct Element {
        let tag: UInt8
        /// Offset of the tag byte.
        let start: Int
        /// Offset of the first content byte.
        let contentStart: Int
        let length: Int
        var contentEnd: Int { contentStart + length }
    }

    var isAtEnd: Bool { position >= end }

    func peekTag() -> UInt8? { position < end ? base[position] : nil }

    mutating func read() throws(CRLError) -> Element {
        let start = position
        guard end - position >= 2 else { throw CRLError(.malformed, "truncated at byte \(position)") }
        let tag = base[position]
        if tag & 0x1F == 0x1F { throw CRLError(.malformed, "multi-byte tag at byte \(position)") }
        var p = position + 1
        let first = base[p]
        p += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let n = Int(first & 0x7F)
            guard n >= 1, n <= 4 else { throw CRLError(.malformed, "unsupported length form at byte \(start)") }
            guard end - p >= n else { throw CRLError(.malformed, "truncated length at byte \(start)") }
            for _ in 0..<n { length = length << 8 | Int(base[p]); p += 1 }
            // DER: the shortest form only.
            if length < 0x80 || (n > 1 && base[p - n] == 0) { throw CRLError(.malformed, "non-minimal length at byte \(start)") }
        }
        guard length <= end - p else { throw CRLError(.malformed, "element at byte \(start) runs past its container") }
        position = p + length
        return Element(tag: tag, start: start, contentStart: p, length: length)
    }

    mutating func read(expecting tag: UInt8, _ what: @autoclosure () -> String) throws(CRLError) -> Element {
        let e = try read()
        guard e.tag == tag else {
            throw CRLError(.malformed, "expected \(what()) (tag 0x\(String(tag, radix: 16))) at byte \(e.start), found tag 0x\(String(e.tag, radix: 16))")
        }
        return e
    }

    /// A cursor over the content of `element`.
    func inside(_ element: Element) -> DERCursor { DERCursor(base: base, position: element.contentStart, end: element.contentEnd) }

    func bytes(_ element: Element) -> [UInt8] { Array(UnsafeBufferPointer(start: base + element.contentStart, count: element.length)) }
    func wholeBytes(_ element: Element) -> [UInt8] { Array(UnsafeBufferPointer(start: base + element.start, count: element.contentEnd - element.start)) }

    /// Seconds since 1970 of a UTCTime (0x17, `YYMMDDHHMMSSZ`) or GeneralizedTime (0x18, `YYYYMMDDHHMMSSZ`).
    func time(_ e: Element) throws(CRLError) -> Int64 {
        let p = base + e.contentStart
        var year: Int
        var i: Int
        func digits(_ at: Int, _ n: Int) -> Int? {
            var v = 0
            for k in 0..<n {
                let c = p[at + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        if e.tag == 0x17, e.length == 13, let yy = digits(0, 2) {
            year = yy >= 50 ? 1900 + yy : 2000 + yy   // RFC 5280 §4.1.2.5.1
            i = 2
        } else if e.tag == 0x18, e.length == 15, let yyyy = digits(0, 4) {
            year = yyyy
            i = 4
        } else {
            throw CRLError(.malformed, "bad time at byte \(e.start)")
        }
        guard p[e.length - 1] == 0x5A, let mo = digits(i, 2), let d = digits(i + 2, 2), let h = digits(i + 4, 2),
              let mi = digits(i + 6, 2), let s = digits(i + 8, 2),
              (1...12).contains(mo), d >= 1, d <= 31, h < 24, mi < 60, s < 60 else {
            throw CRLError(.malformed, "bad time at byte \(e.start)")
        }
        return Self.unixTime(year: year, month: mo, day: d) + Int64(h * 3600 + mi * 60 + s)
    }

    /// Days-from-civil (proleptic Gregorian), in seconds.
    static func unixTime(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468) * 86_400
    }

    /// Dotted text of an OBJECT IDENTIFIER's content.
    func oid(_ e: Element) -> String {
        var parts: [String] = []
        var value = 0
        for k in 0..<e.length {
            let b = base[e.contentStart + k]
            value = value << 7 | Int(b & 0x7F)
            if b & 0x80 == 0 {
                if parts.isEmpty {
                    let first = min(value / 40, 2)
                    parts.append(String(first)); parts.append(String(value - first * 40))
                } else {
                    parts.append(String(value))
                }
                value = 0
            }
        }
        return parts.joined(separator: ".")
    }
}
