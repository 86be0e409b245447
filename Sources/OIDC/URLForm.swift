import HexEncoding

/// `application/x-www-form-urlencoded` values, and query values in links.
public enum URLForm {
    /// `value` with every byte of its UTF-8 outside RFC 3986's unreserved set (ASCII letters, digits, `-._~`)
    /// percent-encoded, upper-case hex: `a b&é` → `a%20b%26%C3%A9`.
    ///
    /// Written over bytes rather than with Foundation's `addingPercentEncoding`: that one keeps any character in its
    /// allowed set, and `CharacterSet.alphanumerics` holds every Unicode letter, so `é` went out unencoded; and it
    /// cost a percent of the card step's CPU on Linux, for the language-switch link of every page.
    public static func encode(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                Hex.append(byte, to: &out, uppercase: true)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
