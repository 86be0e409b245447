import Foundation
import KeyMaterial
import SAML
import XMLSecurity

/// A service provider made at test time: a key, its certificate, metadata, and signed AuthnRequests.
public struct TestServiceProvider {
    public let entityID: String
    public let key: PrivateKey
    public let certificate: X509Certificate
    public let signingKey: XMLSigningKey
    public static let acs0 = "https://sp.example.it/acs"
    public static let acs1 = "https://sp.example.it/acs-bis"

    public init(entityID: String = "https://sp.example.it/sp") throws {
        self.entityID = entityID
        key = try PrivateKey(.rsa2048)
        certificate = try CertificateBuilder(subject: [("CN", "test SP")], serial: CertificateBuilder.randomSerial(), notBefore: Date() - 60,
                                                 notAfter: Date() + 86_400, extensions: []).build(key: key, issuer: nil, issuerKey: key)
        signingKey = try XMLSigningKey(privateKeyPEM: key.pemPrivateKey, certificatePEM: certificate.pem)
    }

    public var base64Certificate: String { Data(certificate.derBytes).base64EncodedString() }

    public func metadata(spid: Bool = true) -> String {
        """
        <md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" \
        xmlns:spid="https://spid.gov.it/saml-extensions" entityID="\(entityID)">
        <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true">
        <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(base64Certificate)</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.it/slo"/>
        <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
        <md:AssertionConsumerService index="0" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="\(Self.acs0)"/>
        <md:AssertionConsumerService index="1" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="\(Self.acs1)"/>
        <md:AttributeConsumingService index="0"><md:ServiceName xml:lang="it">Set 0</md:ServiceName>
        <md:RequestedAttribute Name="fiscalNumber"/><md:RequestedAttribute Name="name"/><md:RequestedAttribute Name="familyName"/></md:AttributeConsumingService>
        <md:AttributeConsumingService index="1"><md:ServiceName xml:lang="it">Set 1</md:ServiceName>
        <md:RequestedAttribute Name="fiscalNumber"/><md:RequestedAttribute Name="dateOfBirth"/></md:AttributeConsumingService>
        </md:SPSSODescriptor>
        \(spid ? #"<md:ContactPerson contactType="other"><md:Extensions><spid:IPACode>c_test</spid:IPACode><spid:Public/></md:Extensions><md:EmailAddress>a@example.it</md:EmailAddress></md:ContactPerson>"# : "")
        </md:EntityDescriptor>
        """
    }

    public func registration(profile: ServiceProviderRegistration.Profile = .spid, allowSHA1: Bool = false) -> ServiceProviderRegistration {
        ServiceProviderRegistration(entityID: entityID, metadataXML: metadata(spid: profile == .spid), profile: profile, allowSHA1: allowSHA1, source: "test")
    }

    /// An AuthnRequest; `change` edits the attributes (nil removes one) and `body` replaces the children after Issuer.
    public static func request(issuer: String, id: String = "_a1b2c3", instant: Date = Date(), destination: String = IdP.config.singleSignOnURL,
                        attributes: [String: String?] = [:], body: String? = nil, issuerExtras: String = "") -> String {
        var attrs: [(String, String)] = [("ID", id), ("Version", "2.0"), ("IssueInstant", SAMLTime.format(instant)), ("Destination", destination),
                                         ("AssertionConsumerServiceIndex", "0"), ("AttributeConsumingServiceIndex", "0"), ("ForceAuthn", "true")]
        for (name, value) in attributes {
            attrs.removeAll { $0.0 == name }
            if let value { attrs.append((name, value)) }
        }
        let head = attrs.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: " ")
        let content = body ?? """
            <samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>\
            <samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>
            """
        return """
            <samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" \(head)>\
            <saml:Issuer NameQualifier="\(issuer)" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity"\(issuerExtras)>\(issuer)</saml:Issuer>\(content)</samlp:AuthnRequest>
            """
    }

    /// HTTP-POST: the message signed with an enveloped signature (`SAMLRequest`, or `SAMLResponse` for a LogoutResponse).
    public func post(_ xml: String, relayState: String? = "rs1", signWith key: XMLSigningKey? = nil, parameter: String = "SAMLRequest") throws -> IncomingMessage {
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: key ?? signingKey)
        return try IncomingMessage.post(form: [parameter: Data(document.serialized().utf8).base64EncodedString(), "RelayState": relayState].compactMapValues { $0 },
                                        parameter: parameter)
    }

    /// HTTP-Redirect: deflated, encoded, and signed over the query octets.
    public func redirectQuery(_ xml: String, relayState: String? = "rs1", sigAlg: String = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                       signer: PrivateKey? = nil) throws -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed)! }
        var query = "SAMLRequest=" + enc(Data(RawDeflate.deflate(Array(xml.utf8))).base64EncodedString())
        if let relayState { query += "&RelayState=" + enc(relayState) }
        query += "&SigAlg=" + enc(sigAlg)
        let signature = try (signer ?? key).signSHA256(Array(query.utf8))
        return query + "&Signature=" + enc(Data(signature).base64EncodedString())
    }
}

public enum IdP {
    public static let config = IdentityProviderConfiguration(baseURL: "https://idp.example.it")

    public static func validator(_ sps: [TestServiceProvider], profile: ServiceProviderRegistration.Profile = .spid, allowSHA1: Bool = false) throws -> AuthnRequestValidator {
        var directory: [String: (ServiceProviderRegistration, ServiceProviderMetadata)] = [:]
        for sp in sps {
            let registration = sp.registration(profile: profile, allowSHA1: allowSHA1)
            directory[sp.entityID] = (registration, try ServiceProviderMetadata.parse(Array(registration.metadataXML.utf8)))
        }
        let frozen = directory
        return AuthnRequestValidator(idp: config) { frozen[$0] }
    }
}
