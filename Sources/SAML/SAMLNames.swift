/// Namespaces, bindings and identifiers of SAML 2.0 and the SPID profile.
public enum SAMLNames {
    public static let protocolNS = "urn:oasis:names:tc:SAML:2.0:protocol"
    public static let assertionNS = "urn:oasis:names:tc:SAML:2.0:assertion"
    public static let metadataNS = "urn:oasis:names:tc:SAML:2.0:metadata"
    public static let dsigNS = "http://www.w3.org/2000/09/xmldsig#"
    public static let spidExtensionsNS = "https://spid.gov.it/saml-extensions"
    /// SAML metadata UI extensions (`mdui:UIInfo`).
    public static let mduiNS = "urn:oasis:names:tc:SAML:metadata:ui"

    public static let redirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    public static let postBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

    public static let entityFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
    public static let transientFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    public static let unspecifiedFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    public static let basicNameFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
    public static let uriNameFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
    public static let bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

    public enum Status {
        public static let success = "urn:oasis:names:tc:SAML:2.0:status:Success"
        public static let requester = "urn:oasis:names:tc:SAML:2.0:status:Requester"
        public static let responder = "urn:oasis:names:tc:SAML:2.0:status:Responder"
        public static let versionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
        public static let noAuthnContext = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
        public static let requestDenied = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
        public static let requestUnsupported = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
        public static let noPassive = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
        public static let authnFailed = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
        public static let invalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
        public static let partialLogout = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
    }

    /// Signature algorithms of the Redirect binding's `SigAlg` and of XML-DSig, with their digests.
    public static let signatureAlgorithms: [String: (digest: String, sha1: Bool)] = [
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("sha256", false),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("sha384", false),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("sha512", false),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("sha256", false),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("sha384", false),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("sha512", false),
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("sha1", true),
    ]
}
