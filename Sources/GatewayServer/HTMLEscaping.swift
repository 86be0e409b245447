import Mustache

/// HTML escaping for the page templates, over UTF-8 bytes: the same five characters and entities as swift-mustache's
/// own escaping, which walks the text by `Character` and looks each up in a dictionary — a third of the consent page's
/// rendering time in a `perf` profile of the card step. A text without any of the five (most of them) is returned as
/// it is. Templates select it with `{{% CONTENT_TYPE: cnsgw-html}}` (Templates/README.md).
struct HTMLEscaping: MustacheContentType {
    static let name = "cnsgw-html"

    func escapeText(_ text: String) -> String {
        guard text.utf8.contains(where: Self.needsEscaping) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 32)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
