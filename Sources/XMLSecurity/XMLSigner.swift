import CXMLSec
import Foundation

/// A private key and its certificate, loaded once into libxmlsec1 and duplicated for each signature.
public final class XMLSigningKey: @unchecked Sendable {
    // @unchecked Sendable: the key is never modified after init; each signature works on its own duplicate.
    let key: UnsafeMutablePointer<xmlSecKey>
    /// The certificate's DER as base64, for KeyInfo.
    public let certificateBase64: String

    /// `privateKeyPEM`: PKCS#8 or traditional PEM; `certificatePEM`: the certificate published for it.
    public init(privateKeyPEM: String, certificatePEM: String) throws {
        try XMLSecurityLibrary.ensureInitialized()
        let keyBytes = Array(privateKeyPEM.utf8)
        guard let loaded = keyBytes.withUnsafeBufferPointer({ xmlSecOpenSSLAppKeyLoadMemory($0.baseAddress, UInt32($0.count), xmlSecKeyDataFormatPem, nil, nil, nil) }) else {
            throw XMLSecurityError(.badKey, "the signing key cannot be read")
        }
        let certBytes = Array(certificatePEM.utf8)
        guard certBytes.withUnsafeBufferPointer({ xmlSecOpenSSLAppKeyCertLoadMemory(loaded, $0.baseAddress, UInt32($0.count), xmlSecKeyDataFormatPem) }) >= 0 else {
            xmlSecKeyDestroy(loaded)
            throw XMLSecurityError(.badKey, "the signing certificate cannot be read or does not match the key")
        }
        key = loaded
        certificateBase64 = certificatePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    }

    deinit { xmlSecKeyDestroy(key) }
}

/// Enveloped XML-DSig signatures (exclusive c14n, RSA-SHA256, SHA-256 digest, the certificate in KeyInfo), placed
/// where the SAML schemas want them.
public enum XMLSigner {
    public static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

    /// Signs `element` (which must carry an `ID` attribute) with a signature inserted right after `after`, or as its
    /// first child when `after` is nil.
    public static func sign(_ element: XMLElement, after: XMLElement?, key: XMLSigningKey) throws {
        try XMLSecurityLibrary.ensureInitialized()
        guard let id = element.attribute("ID") else { throw XMLSecurityError(.malformed, "<\(element.localName)> has no ID to reference") }
        let doc = element.owner.doc
        if let attr = xmlHasProp(element.node, "ID"), xmlGetID(doc, id) == nil { xmlAddID(nil, doc, id, attr) }
        guard let signature = xmlSecTmplSignatureCreate(doc, cnsgw_exc_c14n(), cnsgw_rsa_sha256(), nil) else {
            throw XMLSecurityError(.library, "cannot create a signature template")
        }
        if let after {
            xmlAddNextSibling(after.node, signature)
        } else if let first = xmlFirstElementChild(element.node) {
            xmlAddPrevSibling(first, signature)
        } else {
            xmlAddChild(element.node, signature)
        }
        guard let reference = xmlSecTmplSignatureAddReference(signature, cnsgw_sha256(), nil, "#" + id, nil),
              xmlSecTmplReferenceAddTransform(reference, cnsgw_enveloped()) != nil,
              let c14n = xmlSecTmplReferenceAddTransform(reference, cnsgw_exc_c14n()),
              // xs is used inside attribute values (xsi:type="xs:string"), which exclusive c14n does not see.
              xmlSecTmplTransformAddC14NInclNamespaces(c14n, "xs") >= 0,
              let keyInfo = xmlSecTmplSignatureEnsureKeyInfo(signature, nil),
              let x509 = xmlSecTmplKeyInfoAddX509Data(keyInfo), xmlSecTmplX509DataAddCertificate(x509) != nil else {
            throw XMLSecurityError(.library, "cannot build the signature template")
        }
        guard let context = xmlSecDSigCtxCreate(nil) else { throw XMLSecurityError(.library, "cannot create a signature context") }
        defer { xmlSecDSigCtxDestroy(context) }
        // The loaded key is shared read-only by concurrent signatures (OpenSSL keys are safe to use from several
        // threads); copying it for each signature cost more than the RSA operation.
        guard cnsgw_dsig_sign_with_shared_key(context, key.key, signature) >= 0 else { throw XMLSecurityError(.library, "signing failed") }
    }
}

extension ParsedXML {
    /// The document as UTF-8 text with its XML declaration.
    public func serialized() -> String {
        var out: UnsafeMutablePointer<xmlChar>? = nil
        var size: Int32 = 0
        cnsgw_xml_dump(doc, &out, &size)
        guard let out else { return "" }
        defer { cnsgw_xml_free(out) }
        return String(decoding: UnsafeBufferPointer(start: out, count: Int(size)), as: UTF8.self)
    }
}

/// XML Encryption of a SAML assertion for one recipient.
public enum XMLEncryptor {
    /// Replaces `assertion` with a `saml:EncryptedAssertion`: AES-256-GCM content, the key sent with RSA-OAEP to
    /// the public key of `recipientCertificate` (DER). Encrypt after signing, so the SP verifies what it decrypts.
    public static func encryptAssertion(_ assertion: XMLElement, recipientCertificate: [UInt8]) throws {
        try XMLSecurityLibrary.ensureInitialized()
        let status = recipientCertificate.withUnsafeBufferPointer {
            cnsgw_encrypt_assertion(assertion.owner.doc, assertion.node, $0.baseAddress, UInt32($0.count))
        }
        guard status == 0 else { throw XMLSecurityError(.badKey, "the assertion cannot be encrypted to the service provider's key (it must be RSA)") }
    }
}
