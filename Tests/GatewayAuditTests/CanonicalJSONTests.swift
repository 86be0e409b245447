import Foundation
import GatewayAudit
import Testing

/// The audit payload's canonical JSON: valid JSON that reads back as the same fields, keys in byte order, and for
/// the gateway's ASCII field names the same bytes as `JSONEncoder` with sorted keys (what wrote the payloads before).
@Suite struct CanonicalJSONTests {
    /// Values that exercise every escape: quotes, reverse solidus, every control character, slashes (not escaped),
    /// non-ASCII text and a character outside the Basic Multilingual Plane.
    static let awkwardValues: [String] = [
        "", "plain", "say \"hi\"", #"C:\path\to"#, "https://sp.example.it/acs?x=1&y=2", "Forlì–Cesena", "città 🇮🇹 😀",
        String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }), "tab\there\nnew\rline\u{08}\u{0C}", "\u{7F}\u{2028}\u{2029}",
    ]

    @Test func sameBytesAsJSONEncoderForTheGatewaysFieldNames() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var generator = SystemRandomNumberGenerator()
        let names = ["result", "reason", "serial", "issuer", "codiceFiscale", "client", "via", "login", "requester", "level", "revocation", "proxy", "detail", "a1", "a10", "a9"]
        for _ in 0..<200 {
            var fields: [String: String] = [:]
            for name in names.shuffled(using: &generator).prefix(Int.random(in: 0...names.count, using: &generator)) {
                fields[name] = Self.awkwardValues.randomElement(using: &generator)! + (Bool.random(using: &generator) ? Self.awkwardValues.randomElement(using: &generator)! : "")
            }
            let ours = AuditLog.canonicalJSON(fields)
            let expected = try encoder.encode(fields)
            #expect(ours == expected, "\(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test func readsBackAsTheSameFieldsWithKeysInByteOrder() throws {
        let fields = ["zeta": "1", "Zeta": "2", "ä": "3", "a": Self.awkwardValues[7], "b\"key": "4", "😀": "5", "": "6"]
        let json = AuditLog.canonicalJSON(fields)
        let parsed = try #require(try JSONSerialization.jsonObject(with: json) as? [String: String])
        #expect(parsed == fields)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.hasPrefix(#"{"":"6","Zeta":"2","a":"#))
        #expect(text.hasSuffix(#""b\"key":"4","zeta":"1","ä":"3","😀":"5"}"#))
        #expect(String(decoding: AuditLog.canonicalJSON([:]), as: UTF8.self) == "{}")
        #expect(String(decoding: AuditLog.canonicalJSON(["k": "\u{01}\u{1F}"]), as: UTF8.self) == #"{"k":"\u0001\u001f"}"#)
    }
}
