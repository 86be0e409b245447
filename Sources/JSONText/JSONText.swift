import HexEncoding

/// JSON text written over bytes, for the two places that serialise JSON themselves: the JWS/JWT payloads (`OIDC`'s
/// `JSONValue`) and the audit log's canonical payloads (`GatewayAudit`).
public enum JSONText {
    /// Appends `string` as a JSON string (RFC 8259 §7): the quotation mark and reverse solidus escaped, control
    /// characters as `\n`, `\r`, `\t`, `\b`, `\f` or `\u00xx`, every other byte as it is (UTF-8; `/` not escaped). The
    /// same bytes `JSONEncoder` writes with `.withoutEscapingSlashes`.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case ..<0x20:
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")]
                Hex.append(byte, to: &out)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
