import CodedErrors
import Foundation
import HexEncoding
import LoginOutcome
import XMLSecurity

/// Builds and signs the gateway's Responses (DOMAIN.md §3.2, §3.4).
public struct ResponseBuilder: Sendable {
    public let idp: IdentityProviderConfiguration
    public let key: XMLSigningKey
    /// New message IDs (`_` + 32 hex digits); fixed in golden-file tests.
    public let makeID: @Sendable () -> String

    public init(idp: IdentityProviderConfiguration, key: XMLSigningKey, makeID: @escaping @Sendable () -> String = ResponseBuilder.randomID) {
        self.idp = idp
        self.key = key
        self.makeID = makeID
    }

    public static let randomID: @Sendable () -> String = {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: random.next() as UInt64) { Array($0) } }
        return "_" + Hex.encode(bytes)
    }

    /// What a successful login asserts.
    public struct Login: Sendable {
        public let identity: AuthenticatedCitizen
        public let level: SpidLevel
        public let authenticatedAt: Date
        /// Only for SpidL1 (SPID: no SessionIndex at L2/L3).
        public let sessionIndex: String?
        public let attributes: [String]
        public let allowDerivedAttributes: Bool
        public let includeOIDNames: Bool
        public let signResponse: Bool
        /// The SP's encryption certificate (DER) when its assertions are encrypted.
        public let encryptTo: [UInt8]?
        /// The transient NameID to assert (given when the caller must remember it, for single logout).
        public var nameID: String?

        public init(identity: AuthenticatedCitizen, level: SpidLevel, authenticatedAt: Date, sessionIndex: String?, attributes: [String],
                    allowDerivedAttributes: Bool, includeOIDNames: Bool, signResponse: Bool, encryptTo: [UInt8]? = nil) {
            self.encryptTo = encryptTo
            self.identity = identity
            self.level = level
            self.authenticatedAt = authenticatedAt
            self.sessionIndex = sessionIndex
            self.attributes = attributes
            self.allowDerivedAttributes = allowDerivedAttributes
            self.includeOIDNames = includeOIDNames
            self.signResponse = signResponse
        }
    }

    /// A signed Response with one signed Assertion (and, as registered, encrypted and in a signed Response).
    public func success(_ login: Login, to destination: ResponseDestination, now: Date) throws -> String {
        let responseID = makeID(), assertionID = makeID(), nameID = login.nameID ?? makeID()
        let instant = SAMLTime.format(now), until = SAMLTime.format(now + idp.assertionLifetime)
        var attributes: [CanonicalElement.Child] = []
        for value in AssertedAttributes.values(for: login.attributes, identity: login.identity, allowDerived: login.allowDerivedAttributes) {
            attributes.append(.element(CanonicalElement("saml:Attribute", [("Name", value.name), ("NameFormat", SAMLNames.basicNameFormat)], [
                .element(CanonicalElement("saml:AttributeValue", [("xsi:type", value.type)], text: value.value)),
            ])))
            if login.includeOIDNames, let oid = value.oidName {
                attributes.append(.element(CanonicalElement("saml:Attribute", [("Name", oid), ("NameFormat", SAMLNames.uriNameFormat),
                                                                               ("FriendlyName", oid == "urn:oid:2.5.4.42" ? "givenName" : "sn")], [
                    .element(CanonicalElement("saml:AttributeValue", [("xsi:type", "xs:string")], text: value.value)),
                ])))
            }
        }
        var authn: [(String, String)] = [("AuthnInstant", SAMLTime.format(login.authenticatedAt))]
        if login.level == .spidL1, let index = login.sessionIndex { authn.append(("SessionIndex", index)) }
        var parts: [CanonicalElement.Child] = [
            .element(CanonicalElement("saml:Issuer", [("Format", SAMLNames.entityFormat)], text: idp.entityID)),
            .element(CanonicalElement("saml:Subject", [], [
                .element(CanonicalElement("saml:NameID", [("Format", SAMLNames.transientFormat), ("NameQualifier", idp.entityID)], text: nameID)),
                .element(CanonicalElement("saml:SubjectConfirmation", [("Method", SAMLNames.bearer)], [
                    .element(CanonicalElement("saml:SubjectConfirmationData", [("InResponseTo", destination.inResponseTo), ("NotOnOrAfter", until),
                                                                                ("Recipient", destination.assertionConsumerServiceURL)])),
                ])),
            ])),
            .element(CanonicalElement("saml:Conditions", [("NotBefore", instant), ("NotOnOrAfter", until)], [
                .element(CanonicalElement("saml:AudienceRestriction", [], [.element(CanonicalElement("saml:Audience", text: destination.serviceProvider))])),
            ])),
            .element(CanonicalElement("saml:AuthnStatement", authn, [
                .element(CanonicalElement("saml:AuthnContext", [], [.element(CanonicalElement("saml:AuthnContextClassRef", text: login.level.uri))])),
            ])),
        ]
        if !attributes.isEmpty { parts.append(.element(CanonicalElement("saml:AttributeStatement", [], attributes))) }
        let assertion = CanonicalElement("saml:Assertion", [("ID", assertionID), ("Version", "2.0"), ("IssueInstant", instant)], parts)
        let namespaces = ["saml": SAMLNames.assertionNS, "xs": "http://www.w3.org/2001/XMLSchema", "xsi": "http://www.w3.org/2001/XMLSchema-instance"]
        let status = #"<samlp:Status><samlp:StatusCode Value="\#(SAMLNames.Status.success)"/></samlp:Status>"#

        if login.encryptTo == nil {
            // The usual case, signed straight from the canonical form (no parse, no serialisation).
            let signed = try XMLSigner.signCanonical(assertion, id: assertionID, namespaces: namespaces, key: key, certificateBase64: key.certificateBase64)
            guard login.signResponse else { return envelope(responseID: responseID, instant: instant, destination: destination, status: status, body: signed) }
            // The signed assertion is already in the canonical form it has inside the Response (it declares its own
            // namespaces; the Response renders only samlp, and xs is in scope from the Assertion down), so the
            // Response is signed the same way around it.
            let response = CanonicalElement("samlp:Response", [("ID", responseID), ("Version", "2.0"), ("IssueInstant", instant),
                                                               ("Destination", destination.assertionConsumerServiceURL), ("InResponseTo", destination.inResponseTo)], [
                .element(CanonicalElement("saml:Issuer", [("Format", SAMLNames.entityFormat)], text: idp.entityID)),
                .element(CanonicalElement("samlp:Status", [], [.element(CanonicalElement("samlp:StatusCode", [("Value", SAMLNames.Status.success)]))])),
                .canonical(Array(signed.utf8)),
            ])
            let signedResponse = try XMLSigner.signCanonical(response, id: responseID, namespaces: ["samlp": SAMLNames.protocolNS, "saml": SAMLNames.assertionNS],
                                                             key: key, certificateBase64: key.certificateBase64)
            return #"<?xml version="1.0" encoding="UTF-8"?>"# + signedResponse
        }
        let unsigned = String(decoding: assertion.canonical(namespaces: namespaces, inclusive: ["xs"]).bytes, as: UTF8.self)
        let document = try ParsedXML(Array(envelope(responseID: responseID, instant: instant, destination: destination, status: status, body: unsigned).utf8),
                                     maximumSize: 1 << 20)
        let response = document.root
        guard let assertionElement = response.child("Assertion", namespace: SAMLNames.assertionNS) else {
            throw XMLSecurityError(.malformed, "the built Response has no Assertion")
        }
        try XMLSigner.sign(assertionElement, after: assertionElement.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        if let certificate = login.encryptTo { try XMLEncryptor.encryptAssertion(assertionElement, recipientCertificate: certificate) }
        if login.signResponse { try XMLSigner.sign(response, after: response.child("Issuer", namespace: SAMLNames.assertionNS), key: key) }
        return document.serialized()
    }

    /// A signed error Response: no assertion, the status, sub-status and `ErrorCode nrNN`.
    public func failure(_ error: SAMLRequestError, to destination: ResponseDestination, now: Date) throws -> String {
        try failure(status: error.status, subStatus: error.subStatus, message: error.statusMessage, to: destination, now: now)
    }

    public func failure(status: String, subStatus: String?, message: String, to destination: ResponseDestination, now: Date) throws -> String {
        let inner = subStatus.map { #"<samlp:StatusCode Value="\#($0)"/>"# } ?? ""
        let statusXML = #"<samlp:Status><samlp:StatusCode Value="\#(status)">\#(inner)</samlp:StatusCode><samlp:StatusMessage>\#(XMLText.escape(message))</samlp:StatusMessage></samlp:Status>"#
        let xml = envelope(responseID: makeID(), instant: SAMLTime.format(now), destination: destination, status: statusXML, body: "")
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        let response = document.root
        try XMLSigner.sign(response, after: response.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        return document.serialized()
    }

    /// ` InResponseTo="…"`, or nothing when the request's ID is missing or not an xs:NCName (nr11: the attribute's type
    /// allows no other value, and the error's StatusMessage says why).
    static func inResponseTo(_ destination: ResponseDestination) -> String {
        AuthnRequestValidator.isXMLID(destination.inResponseTo) ? #" InResponseTo=""# + XMLText.escape(destination.inResponseTo) + "\"" : ""
    }

    func envelope(responseID: String, instant: String, destination: ResponseDestination, status: String, body: String) -> String {
        let e = XMLText.escape
        return """
            <?xml version="1.0" encoding="UTF-8"?>\
            <samlp:Response xmlns:samlp="\(SAMLNames.protocolNS)" xmlns:saml="\(SAMLNames.assertionNS)" ID="\(responseID)" Version="2.0" \
            IssueInstant="\(instant)" Destination="\(e(destination.assertionConsumerServiceURL))"\(Self.inResponseTo(destination))>\
            <saml:Issuer Format="\(SAMLNames.entityFormat)">\(e(idp.entityID))</saml:Issuer>\(status)\(body)</samlp:Response>
            """
    }
}
