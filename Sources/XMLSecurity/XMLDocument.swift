import CXMLSec
import Foundation

/// Process-wide set-up of libxml2 and libxmlsec1 (both keep global state, so this runs once, on first use).
enum XMLSecurityLibrary {
    static let status: Int32 = cnsgw_xmlsec_initialize()

    static func ensureInitialized() throws {
        guard status == 0 else { throw XMLSecurityError(.library, "libxmlsec1 could not be initialised (code \(status)); check the libxmlsec1-openssl package") }
        cnsgw_xml_silence_thread()   // libxml2's error handler is per thread
    }
}

/// A parsed XML document, hardened: a size limit before parsing, no network, no DTD (a DOCTYPE is refused, so no
/// entity can be declared or expanded), libxml2's default depth and text limits (no XML_PARSE_HUGE).
/// Owns the libxml2 document and frees it; not for concurrent use.
public final class ParsedXML: @unchecked Sendable {
    // @unchecked Sendable: the document is read-only after init except through this class's own methods, which a
    // caller uses from one task at a time.
    let doc: xmlDocPtr

    public init(_ bytes: [UInt8], maximumSize: Int) throws {
        try XMLSecurityLibrary.ensureInitialized()
        guard bytes.count <= maximumSize else { throw XMLSecurityError(.tooLarge, "the document has \(bytes.count) bytes; the limit is \(maximumSize)") }
        guard bytes.count <= Int(Int32.max) else { throw XMLSecurityError(.tooLarge, "the document is too large") }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { xmlReadMemory($0, Int32(buffer.count), "input.xml", nil, options) }
        }
        guard let parsed else { throw XMLSecurityError(.malformed, "the document is not well-formed XML") }
        guard parsed.pointee.intSubset == nil, parsed.pointee.extSubset == nil else {
            xmlFreeDoc(parsed)
            throw XMLSecurityError(.dtdForbidden, "the document has a DOCTYPE; DTDs and entity declarations are not accepted")
        }
        guard xmlDocGetRootElement(parsed) != nil else {
            xmlFreeDoc(parsed)
            throw XMLSecurityError(.malformed, "the document has no root element")
        }
        doc = parsed
    }

    deinit { xmlFreeDoc(doc) }

    public var root: XMLElement { XMLElement(node: xmlDocGetRootElement(doc)!, owner: self) }

    /// Registers every `ID`/`Id` attribute as an XML ID, so same-document references resolve; a repeated value is
    /// refused (two elements answering to one reference is how signature wrapping works).
    func registerIDs() throws {
        var seen = Set<String>()
        func visit(_ node: xmlNodePtr) throws {
            var attribute = node.pointee.properties
            while let a = attribute {
                let name = String(cString: a.pointee.name)
                if name == "ID" || name == "Id", a.pointee.ns == nil, let value = xmlNodeGetContent(UnsafeMutablePointer(OpaquePointer(a))) {
                    defer { cnsgw_xml_free(value) }
                    let id = String(cString: value)
                    guard seen.insert(id).inserted else { throw XMLSecurityError(.duplicateID, "the ID '\(id)' appears on two elements") }
                    if xmlGetID(doc, value) == nil { xmlAddID(nil, doc, value, a) }
                }
                attribute = a.pointee.next
            }
            var child = node.pointee.children
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE { try visit(c) }
                child = c.pointee.next
            }
        }
        try visit(xmlDocGetRootElement(doc)!)
    }
}

/// An element of a ``ParsedXML`` (keeps the document alive).
public struct XMLElement: @unchecked Sendable {
    let node: xmlNodePtr
    let owner: ParsedXML

    public var localName: String { String(cString: node.pointee.name) }
    public var namespaceURI: String? { node.pointee.ns.flatMap { $0.pointee.href.map { String(cString: $0) } } }

    /// An attribute without namespace.
    public func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { cnsgw_xml_free(value) }
        return String(cString: value)
    }

    /// The `xml:lang` in force on this element.
    public var langAttribute: String? {
        guard let value = xmlNodeGetLang(node) else { return nil }
        defer { cnsgw_xml_free(value) }
        return String(cString: value)
    }

    /// Child elements, optionally of one name and namespace.
    public func children(_ localName: String? = nil, namespace: String? = nil) -> [XMLElement] {
        var result: [XMLElement] = []
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_ELEMENT_NODE {
                let element = XMLElement(node: c, owner: owner)
                if (localName == nil || element.localName == localName) && (namespace == nil || element.namespaceURI == namespace) { result.append(element) }
            }
            child = c.pointee.next
        }
        return result
    }

    public func child(_ localName: String, namespace: String? = nil) -> XMLElement? { children(localName, namespace: namespace).first }

    /// The element's own text: all its text children joined, so a comment or processing instruction inside a value
    /// (`a@evil.it<!---->.example.it`) neither truncates it nor hides a part of it. An element with element children
    /// has no text (nil).
    public var text: String? {
        var pieces: [String] = []
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = c.pointee.content { pieces.append(String(cString: content)) }
            case XML_ELEMENT_NODE:
                return nil
            default:
                break
            }
            child = c.pointee.next
        }
        return pieces.joined()
    }
}
