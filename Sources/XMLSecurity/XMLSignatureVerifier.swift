import CXMLSec
import Foundation

/// Which algorithms a signature may use. Exclusive and inclusive canonicalisation, the enveloped-signature
/// transform, SHA-2 digests and RSA/ECDSA with SHA-2; SHA-1 only when an admin allows it.
public struct XMLSignaturePolicy: Sendable, Hashable {
    public var allowSHA1: Bool
    /// Inclusive c14n (used by trusted lists); SAML messages allow exclusive c14n only.
    public var allowInclusiveCanonicalization: Bool

    public init(allowSHA1: Bool = false, allowInclusiveCanonicalization: Bool = false) {
        self.allowSHA1 = allowSHA1
        self.allowInclusiveCanonicalization = allowInclusiveCanonicalization
    }
}

/// What a verified signature covers.
public struct VerifiedXMLSignature: Sendable, Hashable {
    /// The references' URIs as written ("" for the whole document).
    public let referenceURIs: [String]
}

/// Verifies enveloped XML-DSig signatures with libxmlsec1 against a key the caller pins (never a key carried in the
/// message), with an allow-list of transforms and algorithms, and checks that the signature covers the element the
/// caller will read — so content outside the signature (wrapping) is never taken as signed.
public enum XMLSignatureVerifier {
    static let dsigNamespace = "http://www.w3.org/2000/09/xmldsig#"

    /// Verifies the `ds:Signature` child of `element` with the public key of `certificate` (PEM or DER). The
    /// signature must have a reference to `element` itself: `#<its ID>`, or `""` when it is the document root.
    public static func verify(_ element: XMLElement, certificate: [UInt8], policy: XMLSignaturePolicy = XMLSignaturePolicy()) throws -> VerifiedXMLSignature {
        try XMLSecurityLibrary.ensureInitialized()
        let document = element.owner
        try document.registerIDs()
        let signatures = element.children("Signature", namespace: dsigNamespace)
        guard signatures.count == 1, let signature = signatures.first else {
            throw XMLSecurityError(.signatureMissing, signatures.isEmpty ? "<\(element.localName)> has no signature" : "<\(element.localName)> has \(signatures.count) signatures")
        }
        let isPEM = certificate.starts(with: Array("-----".utf8))
        guard let key = certificate.withUnsafeBufferPointer({ buffer in
            xmlSecOpenSSLAppKeyLoadMemory(buffer.baseAddress, UInt32(buffer.count), isPEM ? xmlSecKeyDataFormatCertPem : xmlSecKeyDataFormatCertDer,
                                          nil, nil, nil)
        }) else { throw XMLSecurityError(.badKey, "the signer certificate cannot be read") }
        guard let context = xmlSecDSigCtxCreate(nil) else {
            xmlSecKeyDestroy(key)
            throw XMLSecurityError(.library, "cannot create a signature context")
        }
        defer { xmlSecDSigCtxDestroy(context) }   // also frees the key
        cnsgw_dsig_set_key(context, key)
        cnsgw_dsig_allow_uris(context)
        var canonicalizations = [cnsgw_exc_c14n(), cnsgw_exc_c14n_comments()]
        if policy.allowInclusiveCanonicalization { canonicalizations += [cnsgw_incl_c14n(), cnsgw_incl_c14n_comments(), cnsgw_incl_c14n11()] }
        var digests = [cnsgw_sha256(), cnsgw_sha384(), cnsgw_sha512()]
        var signing = [cnsgw_rsa_sha256(), cnsgw_rsa_sha384(), cnsgw_rsa_sha512(), cnsgw_ecdsa_sha256(), cnsgw_ecdsa_sha384(), cnsgw_ecdsa_sha512()]
        if policy.allowSHA1 {
            digests.append(cnsgw_sha1())
            signing.append(cnsgw_rsa_sha1())
        }
        for id in canonicalizations + [cnsgw_enveloped()] + digests { _ = xmlSecDSigCtxEnableReferenceTransform(context, id) }
        for id in canonicalizations + signing { _ = xmlSecDSigCtxEnableSignatureTransform(context, id) }

        guard xmlSecDSigCtxVerify(context, signature.node) >= 0 else {
            throw XMLSecurityError(.signatureInvalid, "the signature cannot be processed (a refused algorithm or transform, or a reference that does not resolve)")
        }
        guard cnsgw_dsig_status(context) == xmlSecDSigStatusSucceeded else {
            throw XMLSecurityError(.signatureInvalid, "the signature does not verify with the configured certificate")
        }
        let count = cnsgw_dsig_reference_count(context)
        var uris: [String] = []
        for i in 0..<count {
            guard cnsgw_dsig_reference_succeeded(context, i) != 0, let uri = cnsgw_dsig_reference_uri(context, i) else {
                throw XMLSecurityError(.signatureInvalid, "reference \(i + 1) of the signature does not verify")
            }
            uris.append(String(cString: uri))
        }
        let isRoot = xmlDocGetRootElement(document.doc) == element.node
        let covers = uris.contains { uri in
            (uri.isEmpty && isRoot) || (uri.hasPrefix("#") && (element.attribute("ID") ?? element.attribute("Id")) == String(uri.dropFirst()))
        }
        guard covers else {
            throw XMLSecurityError(.signatureInvalid, "the signature does not cover <\(element.localName)> (references: \(uris.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        return VerifiedXMLSignature(referenceURIs: uris)
    }
}
