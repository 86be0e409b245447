import Foundation

/// A SAML protocol message as received over a binding, before any check.
public struct IncomingMessage: Sendable {
    public enum Binding: String, Sendable, Codable {
        case redirect, post
    }

    /// The Redirect binding's detached signature: the exact octets signed and the algorithm.
    public struct DetachedSignature: Sendable {
        public let signedOctets: [UInt8]
        public let algorithm: String
        public let value: [UInt8]
    }

    public let xml: [UInt8]
    /// `SAMLRequest` or `SAMLResponse`.
    public var parameter: String = "SAMLRequest"
    public let binding: Binding
    public let relayState: String?
    public let detachedSignature: DetachedSignature?

    /// Limits on what the bindings accept.
    public static let maximumEncodedSize = 128 * 1024
    public static let maximumXMLSize = 256 * 1024

    /// HTTP-Redirect: `rawQuery` exactly as received (the signature covers its octets, not a re-encoding).
    /// `parameter` is `SAMLRequest` or `SAMLResponse`.
    public static func redirect(rawQuery: String, parameter: String = "SAMLRequest") throws(SAMLRequestError) -> IncomingMessage {
        guard rawQuery.utf8.count <= maximumEncodedSize else { throw SAMLRequestError(4, reason: "too_large", "the query is larger than \(maximumEncodedSize) bytes") }
        var raw: [String: String] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard raw[name] == nil else { throw SAMLRequestError(4, reason: "binding", "the parameter \(name) appears twice") }
            raw[name] = parts.count > 1 ? String(parts[1]) : ""
        }
        func decoded(_ name: String) -> String? {
            raw[name].flatMap { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        }
        guard let encoded = decoded(parameter), let deflated = Data(base64Encoded: encoded.filter { !$0.isWhitespace }) else {
            throw SAMLRequestError(4, reason: "binding", "no readable \(parameter) parameter (base64 of DEFLATE)")
        }
        let xml: [UInt8]
        do { xml = try RawDeflate.inflate([UInt8](deflated), limit: maximumXMLSize) } catch {
            switch error {
            case .tooLarge: throw SAMLRequestError(4, reason: "too_large", "the \(parameter) inflates past \(maximumXMLSize) bytes (a compression bomb is refused)")
            case .corrupt: throw SAMLRequestError(4, reason: "binding", "the \(parameter) is not DEFLATE data")
            }
        }
        var signature: DetachedSignature?
        if let sigAlg = decoded("SigAlg"), let sig = decoded("Signature") {
            guard let value = Data(base64Encoded: sig.filter { !$0.isWhitespace }) else {
                throw SAMLRequestError(4, reason: "binding", "the Signature parameter is not base64")
            }
            // SAML bindings §3.4.4.1: the URL-encoded values as received, in this order.
            var signed = "\(parameter)=\(raw[parameter]!)"
            if let relay = raw["RelayState"] { signed += "&RelayState=\(relay)" }
            signed += "&SigAlg=\(raw["SigAlg"]!)"
            signature = DetachedSignature(signedOctets: Array(signed.utf8), algorithm: sigAlg, value: [UInt8](value))
        }
        return IncomingMessage(xml: xml, parameter: parameter, binding: .redirect, relayState: decoded("RelayState"), detachedSignature: signature)
    }

    /// HTTP-POST: the decoded form fields. The Redirect binding's parameters sent with POST (`SigAlg`/`Signature` in
    /// the form, or the message in the URL's query instead of the body) are nr06, a binding on the wrong HTTP method.
    public static func post(form: [String: String], parameter: String = "SAMLRequest", rawQuery: String = "") throws(SAMLRequestError) -> IncomingMessage {
        let queryNames = Set(rawQuery.split(separator: "&").map { String($0.prefix(while: { $0 != "=" })) })
        if form["SigAlg"] != nil || form["Signature"] != nil || (form[parameter] == nil && queryNames.contains(parameter)) {
            throw SAMLRequestError(6, reason: "binding_method", "the HTTP-Redirect binding's parameters came with POST: send them in a GET query")
        }
        guard let encoded = form[parameter], encoded.utf8.count <= maximumEncodedSize * 2,
              let xml = Data(base64Encoded: encoded.filter { !$0.isWhitespace }) else {
            throw SAMLRequestError(4, reason: "binding", "no readable \(parameter) form field (base64)")
        }
        guard xml.count <= maximumXMLSize else { throw SAMLRequestError(4, reason: "too_large", "the \(parameter) is larger than \(maximumXMLSize) bytes") }
        return IncomingMessage(xml: [UInt8](xml), parameter: parameter, binding: .post, relayState: form["RelayState"], detachedSignature: nil)
    }
}
