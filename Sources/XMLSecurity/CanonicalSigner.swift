import CXMLSec
import Foundation

/// An element written by the gateway, rendered directly in exclusive canonical form (W3C xml-exc-c14n), so that its
/// enveloped signature can be computed without parsing it back: the hot path of every login's Response. Written by
/// hand because libxmlsec1 signs only a parsed document, and parsing, canonicalising and serialising cost more than
/// the RSA signature itself (`bench/saml.sh`). Only what the gateway writes is supported: prefixed elements, no
/// default namespace, no comments, no whitespace between elements. Every result is checked by the golden files and
/// by libxmlsec1 and the SP libraries in the tests.
public struct CanonicalElement: Sendable {
    public enum Child: Sendable {
        case element(CanonicalElement)
        case text(String)
        /// An element already in the canonical form it has at this place (a signed assertion inside its Response):
        /// written as it is. It must declare every namespace it uses and use none its ancestors render.
        case canonical([UInt8])
    }

    /// `prefix:local`.
    public let name: String
    /// Qualified attribute names (`ID`, `xsi:type`) and values.
    public let attributes: [(String, String)]
    public let children: [Child]

    public init(_ name: String, _ attributes: [(String, String)] = [], _ children: [Child] = []) {
        self.name = name
        self.attributes = attributes
        self.children = children
    }

    public init(_ name: String, _ attributes: [(String, String)] = [], text: String) {
        self.init(name, attributes, [.text(text)])
    }

    static func prefix(_ qualified: String) -> String? {
        qualified.firstIndex(of: ":").map { String(qualified[..<$0]) }
    }

    /// The element in exclusive canonical form (UTF-8). `namespaces` maps every prefix in use to its URI; `inclusive`
    /// are the InclusiveNamespaces PrefixList prefixes (rendered at the apex). `insertAt` is the offset after the first
    /// child, where an enveloped signature goes in the document.
    public func canonical(namespaces: [String: String], inclusive: [String]) -> (bytes: [UInt8], insertAt: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        var insertAt = 0
        render(namespaces: namespaces, inclusive: inclusive, rendered: [:], into: &out, insertAt: &insertAt, isApex: true)
        return (out, insertAt)
    }

    private func render(namespaces: [String: String], inclusive: [String], rendered: [String: String], into out: inout [UInt8], insertAt: inout Int,
                        isApex: Bool) {
        // Namespace nodes: those visibly used by this element and its attributes, plus the inclusive ones at the apex,
        // each unless an output ancestor rendered the same.
        var used: [String] = Self.prefix(name).map { [$0] } ?? []
        for (attribute, _) in attributes { if let p = Self.prefix(attribute), p != "xml", !used.contains(p) { used.append(p) } }
        if isApex { for p in inclusive where !used.contains(p) { used.append(p) } }
        if used.count > 1 { used.sort() }
        var scope = rendered
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: name.utf8)
        for prefix in used {
            guard let uri = namespaces[prefix], rendered[prefix] != uri else { continue }
            out.append(contentsOf: " xmlns:".utf8)
            out.append(contentsOf: prefix.utf8)
            out.append(contentsOf: "=\"".utf8)
            Self.escape(uri, attribute: true, into: &out)
            out.append(UInt8(ascii: "\""))
            scope[prefix] = uri
        }
        // Attributes: unqualified first, then by namespace URI and local name.
        var sorted = attributes
        if attributes.count > 1 {
            let keys = attributes.map { a -> (String, String) in
                guard let p = Self.prefix(a.0) else { return ("", a.0) }
                return (namespaces[p] ?? "", String(a.0.dropFirst(p.count + 1)))
            }
            if !zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) {
                sorted = zip(keys, attributes).sorted { $0.0 < $1.0 }.map(\.1)
            }
        }
        for (attribute, value) in sorted {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: attribute.utf8)
            out.append(contentsOf: "=\"".utf8)
            Self.escape(value, attribute: true, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: ">"))
        for (index, child) in children.enumerated() {
            switch child {
            case .text(let text): Self.escape(text, attribute: false, into: &out)
            case .element(let element):
                var ignored = 0
                element.render(namespaces: namespaces, inclusive: inclusive, rendered: scope, into: &out, insertAt: &ignored, isApex: false)
            case .canonical(let bytes): out.append(contentsOf: bytes)
            }
            if index == 0 && isApex { insertAt = out.count }
        }
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
    }

    /// Canonical XML escaping of text (`&`, `<`, `>`, CR) or of an attribute value (`&`, `<`, `"`, TAB, LF, CR).
    static func escape(_ s: String, attribute: Bool, into out: inout [UInt8]) {
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">") where !attribute: out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\"") where attribute: out.append(contentsOf: "&quot;".utf8)
            case 0x09 where attribute: out.append(contentsOf: "&#x9;".utf8)
            case 0x0A where attribute: out.append(contentsOf: "&#xA;".utf8)
            case 0x0D: out.append(contentsOf: "&#xD;".utf8)
            default: out.append(byte)
            }
        }
    }
}

extension XMLSigner {
    /// Signs a canonical element: SHA-256 over its canonical form, RSA-SHA256 over the canonical SignedInfo, the
    /// signature placed after its first child. Returns the element's text for the document.
    public static func signCanonical(_ element: CanonicalElement, id: String, namespaces: [String: String], key: XMLSigningKey,
                                     certificateBase64: String) throws -> String {
        let ds = "http://www.w3.org/2000/09/xmldsig#"
        let c14n = "http://www.w3.org/2001/10/xml-exc-c14n#"
        let (signed, insertAt) = element.canonical(namespaces: namespaces, inclusive: ["xs"])
        let digest = sha256(signed)
        let signedInfo = CanonicalElement("ds:SignedInfo", [], [
            .element(CanonicalElement("ds:CanonicalizationMethod", [("Algorithm", c14n)])),
            .element(CanonicalElement("ds:SignatureMethod", [("Algorithm", rsaSHA256)])),
            .element(CanonicalElement("ds:Reference", [("URI", "#" + id)], [
                .element(CanonicalElement("ds:Transforms", [], [
                    .element(CanonicalElement("ds:Transform", [("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")])),
                    .element(CanonicalElement("ds:Transform", [("Algorithm", c14n)], [
                        .element(CanonicalElement("ec:InclusiveNamespaces", [("PrefixList", "xs")])),
                    ])),
                ])),
                .element(CanonicalElement("ds:DigestMethod", [("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256")])),
                .element(CanonicalElement("ds:DigestValue", text: Data(digest).base64EncodedString())),
            ])),
        ])
        let infoNamespaces = ["ds": ds, "ec": c14n]
        let (info, _) = signedInfo.canonical(namespaces: infoNamespaces, inclusive: [])
        var signature = [UInt8](repeating: 0, count: 1024)
        let length = cnsgw_rsa_sha256_sign(key.key, info, info.count, &signature, signature.count)
        guard length > 0 else { throw XMLSecurityError(.library, "RSA signing failed") }
        // The document: the canonical element with the Signature after its first child. The SignedInfo is its canonical
        // form without the xmlns:ds its parent already declares, so the whole signed element is itself in canonical form
        // (an enclosing Response can be signed over it as it is) and a verifier derives the same SignedInfo bytes.
        var document = Array(signed[..<insertAt])
        document.append(contentsOf: "<ds:Signature xmlns:ds=\"\(ds)\">".utf8)
        assert(info.starts(with: Array("<ds:SignedInfo xmlns:ds=\"\(ds)\">".utf8)))
        let redundant = " xmlns:ds=\"\(ds)\"".utf8.count
        let start = "<ds:SignedInfo".utf8.count
        document.append(contentsOf: info[..<start])
        document.append(contentsOf: info[(start + redundant)...])
        document.append(contentsOf: "<ds:SignatureValue>\(Data(signature[..<Int(length)]).base64EncodedString())</ds:SignatureValue>".utf8)
        document.append(contentsOf: "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(certificateBase64)</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>".utf8)
        document.append(contentsOf: signed[insertAt...])
        return String(decoding: document, as: UTF8.self)
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        cnsgw_sha256_digest(bytes, bytes.count, &out)
        return out
    }
}
