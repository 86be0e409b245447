/// Escaping for XML built as text (element content and attribute values).
enum XMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                // Characters XML 1.0 forbids are dropped rather than written.
                if c.value < 0x20 { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
