import Foundation

/// Writes ETSI TS 119 612 trusted lists for tests and signs them with the `xmlsec1` command (an independent
/// XML-DSig implementation), the way a list operator does: enveloped signature over the whole list.
public enum TrustedListFixture {
    public struct Service {
        public var provider: String
        public var name: String
        public var type: String
        public var status: String
        public var certificatesDER: [Data]
        public init(provider: String, name: String, type: String = "http://uri.etsi.org/TrstSvc/Svctype/IdV",
                    status: String = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel", certificatesDER: [Data]) {
            self.provider = provider
            self.name = name
            self.type = type
            self.status = status
            self.certificatesDER = certificatesDER
        }
    }

    /// The unsigned list with an empty signature template (`<ds:Signature>` with `Reference URI=""`).
    public static func unsigned(sequence: Int, issued: Date = Date(), nextUpdate: Date = Date() + 180 * 86_400, services: [Service],
                                canonicalization: String = "http://www.w3.org/2001/10/xml-exc-c14n#") -> String {
        let f = ISO8601DateFormatter()
        let providers = services.map { s in
            """
              <tsl:TrustServiceProvider>
                <tsl:TSPInformation><tsl:TSPName><tsl:Name xml:lang="it">\(s.provider) (it)</tsl:Name><tsl:Name xml:lang="en">\(s.provider)</tsl:Name></tsl:TSPName></tsl:TSPInformation>
                <tsl:TSPServices><tsl:TSPService><tsl:ServiceInformation>
                  <tsl:ServiceTypeIdentifier>\(s.type)</tsl:ServiceTypeIdentifier>
                  <tsl:ServiceName><tsl:Name xml:lang="en">\(s.name)</tsl:Name></tsl:ServiceName>
                  <tsl:ServiceDigitalIdentity>\(s.certificatesDER.map { "<tsl:DigitalId><tsl:X509Certificate>\($0.base64EncodedString())</tsl:X509Certificate></tsl:DigitalId>" }.joined())</tsl:ServiceDigitalIdentity>
                  <tsl:ServiceStatus>\(s.status)</tsl:ServiceStatus>
                  <tsl:StatusStartingTime>2016-06-30T22:00:00Z</tsl:StatusStartingTime>
                </tsl:ServiceInformation></tsl:TSPService></tsl:TSPServices>
              </tsl:TrustServiceProvider>
            """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <tsl:TrustServiceStatusList xmlns:tsl="http://uri.etsi.org/02231/v2#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="TrustServiceStatusList-1" TSLTag="http://uri.etsi.org/19612/TSLTag">
              <tsl:SchemeInformation>
                <tsl:TSLVersionIdentifier>5</tsl:TSLVersionIdentifier>
                <tsl:TSLSequenceNumber>\(sequence)</tsl:TSLSequenceNumber>
                <tsl:TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</tsl:TSLType>
                <tsl:SchemeOperatorName><tsl:Name xml:lang="en">Agenzia per l'Italia Digitale (test)</tsl:Name></tsl:SchemeOperatorName>
                <tsl:ListIssueDateTime>\(f.string(from: issued))</tsl:ListIssueDateTime>
                <tsl:NextUpdate><tsl:dateTime>\(f.string(from: nextUpdate))</tsl:dateTime></tsl:NextUpdate>
              </tsl:SchemeInformation>
              <tsl:TrustServiceProviderList>
            \(providers)
              </tsl:TrustServiceProviderList>
              <ds:Signature Id="signature-1">
                <ds:SignedInfo>
                  <ds:CanonicalizationMethod Algorithm="\(canonicalization)"/>
                  <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
                  <ds:Reference URI="">
                    <ds:Transforms>
                      <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
                      <ds:Transform Algorithm="\(canonicalization)"/>
                    </ds:Transforms>
                    <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                    <ds:DigestValue/>
                  </ds:Reference>
                </ds:SignedInfo>
                <ds:SignatureValue/>
                <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
              </ds:Signature>
            </tsl:TrustServiceStatusList>
            """
    }

    /// Signs `template` with `xmlsec1 --sign`; returns the signed document.
    /// `idElements` names the elements (`namespace:localName`) whose `Id` attribute a reference points at.
    public static func sign(_ template: String, keyPEMPath: String, certificatePEMPath: String, idElements: [String] = []) throws -> String {
        let base = NSTemporaryDirectory() + "cnsgw-tsl-\(UUID().uuidString)"
        try template.write(toFile: base + ".xml", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: base + ".xml"); try? FileManager.default.removeItem(atPath: base + ".signed.xml") }
        let r = try runCommand("xmlsec1", ["--sign", "--privkey-pem", "\(keyPEMPath),\(certificatePEMPath)", "--output", base + ".signed.xml"]
                                         + idElements.map { "--id-attr:Id \($0)" }.flatMap { $0.split(separator: " ", maxSplits: 1).map(String.init) } + [base + ".xml"])
        guard r.status == 0 else { throw ServiceError("xmlsec1 --sign failed: \(r.stderr)") }
        return try String(contentsOfFile: base + ".signed.xml", encoding: .utf8)
    }
}

/// Signs any XML document over its whole content with the `xmlsec1` command (enveloped signature, first child of
/// the root): federation-signed SAML metadata in tests.
public enum EnvelopedSignatureFixture {
    public static func sign(_ xml: String, keyPEMPath: String, certificatePEMPath: String) throws -> String {
        let afterDeclaration = xml.range(of: "?>")?.upperBound ?? xml.startIndex
        guard let rootStart = xml.range(of: "<", range: afterDeclaration..<xml.endIndex),
              let rootEnd = xml.range(of: ">", range: rootStart.upperBound..<xml.endIndex) else { throw ServiceError("no root element") }
        let template = """
            <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>\
            <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
            <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\
            <ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
            <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>\
            <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>\
            <ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>
            """
        var unsigned = xml
        unsigned.insert(contentsOf: template, at: rootEnd.upperBound)
        let base = NSTemporaryDirectory() + "cnsgw-sign-\(UUID().uuidString)"
        try unsigned.write(toFile: base + ".xml", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: base + ".xml"); try? FileManager.default.removeItem(atPath: base + ".signed.xml") }
        let r = try runCommand("xmlsec1", ["--sign", "--privkey-pem", "\(keyPEMPath),\(certificatePEMPath)", "--output", base + ".signed.xml", base + ".xml"])
        guard r.status == 0 else { throw ServiceError("xmlsec1 --sign failed: \(r.stderr)") }
        return try String(contentsOfFile: base + ".signed.xml", encoding: .utf8)
    }
}
