import Foundation
import GatewayStorage
import HexEncoding
import KeyMaterial

/// Makes the gateway's own keys with libcrypto (KeyMaterial): signing keys for SAML (RSA-2048 with a self-signed
/// certificate for the metadata) and OIDC (RS256, ES256), and the self-signed certificate of a development listener.
public enum SigningKeyFactory {
    /// A new signing key record for `use` (`saml`, `oidc`) and `algorithm` (`RS256`, `ES256`), in state `state`.
    public static func make(use: String, algorithm: String, now: Date, state: SigningKeyRecord.State = .next) throws -> SigningKeyRecord {
        var random = SystemRandomNumberGenerator()
        let kid = Hex.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) })   // 128 random bits
        let key = try PrivateKey(algorithm == "ES256" ? .p256 : .rsa2048)
        var certificate: String?
        if use == "saml" {
            certificate = try CertificateBuilder(
                subject: [("CN", "cnsgw SAML signing"), ("O", "cnsgw"), ("C", "IT")], serial: CertificateBuilder.randomSerial(), notBefore: now - 3600,
                notAfter: now + 5 * 365 * 86_400, extensions: [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature")]
            ).build(key: key, issuer: nil, issuerKey: key).pem
        }
        return SigningKeyRecord(id: kid, use: use, algorithm: algorithm, privateKeyPEM: key.pemPrivateKey, certificatePEM: certificate, state: state,
                                createdAt: now)
    }

    /// The generator key rotation uses.
    public static let generator: KeyRotation.Generator = { use, algorithm, now in try make(use: use, algorithm: algorithm, now: now) }

    /// A self-signed server certificate for `localhost` and 127.0.0.1 (development and tests; production listeners get
    /// the operator's certificate), with its PKCS#8 PEM private key.
    public static func developmentServerCertificate(now: Date = Date()) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let key = try PrivateKey(.rsa2048)
        let certificate = try CertificateBuilder(
            subject: [("CN", "cnsgw development server")], serial: CertificateBuilder.randomSerial(), notBefore: now - 3600,
            notAfter: now + 825 * 86_400,
            extensions: [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature,keyEncipherment"),
                         ("extendedKeyUsage", "serverAuth"), ("subjectAltName", "DNS:localhost,IP:127.0.0.1")]
        ).build(key: key, issuer: nil, issuerKey: key)
        return (certificate.pem, key.pemPrivateKey)
    }
}
