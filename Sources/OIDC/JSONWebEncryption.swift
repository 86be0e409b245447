import Crypto
import Foundation
import _CryptoExtras

/// Compact JWE (RFC 7516) with the algorithms the SPID/CIE OIDC profile requires (DOMAIN.md §4): key encryption
/// RSA-OAEP-256 or RSA-OAEP, content encryption A256CBC-HS512 or A128CBC-HS256 (RFC 7518 §5.2: AES-CBC with an
/// HMAC over AAD ‖ IV ‖ ciphertext ‖ AAD length). Written here because jwt-kit has no JWE.
public enum JWE {
    public enum KeyAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
        case rsaOAEP256 = "RSA-OAEP-256"
        case rsaOAEP = "RSA-OAEP"

        var padding: _RSA.Encryption.Padding { self == .rsaOAEP256 ? .PKCS1_OAEP_SHA256 : .PKCS1_OAEP }
    }

    public enum ContentAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
        case a256cbcHS512 = "A256CBC-HS512"
        case a128cbcHS256 = "A128CBC-HS256"

        /// MAC key ‖ encryption key.
        var keyLength: Int { self == .a256cbcHS512 ? 64 : 32 }
        var tagLength: Int { keyLength / 2 }
    }

    /// Encrypts `payload` (a compact JWS: `cty: JWT`) to the client's RSA key.
    public static func encrypt(_ payload: Data, to key: JSONWebKey, algorithm: KeyAlgorithm, encryption: ContentAlgorithm, contentType: String? = "JWT") throws -> String {
        let publicKey = try key.rsaEncryptionKey()
        let cek = SymmetricKey(size: .init(bitCount: encryption.keyLength * 8))
        let cekBytes = cek.withUnsafeBytes { Data($0) }
        let encryptedKey = try publicKey.encrypt(cekBytes, padding: algorithm.padding)
        let header = JOSEHeader(alg: algorithm.rawValue, kid: key.kid, cty: contentType, enc: encryption.rawValue)
        let protected = Base64URL.encode(try header.json.jsonData())
        var ivBytes = Data(count: 16)
        var random = SystemRandomNumberGenerator()
        for i in 0..<16 { ivBytes[i] = random.next() }
        let (ciphertext, tag) = try seal(payload, cek: cekBytes, iv: ivBytes, aad: Data(protected.utf8), encryption: encryption)
        return [protected, Base64URL.encode(encryptedKey), Base64URL.encode(ivBytes), Base64URL.encode(ciphertext), Base64URL.encode(tag)].joined(separator: ".")
    }

    /// Decrypts a compact JWE with the recipient's private key (tests, and encrypted request objects later).
    public static func decrypt(_ compact: String, with key: _RSA.Encryption.PrivateKey) throws -> (header: JOSEHeader, payload: Data) {
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, let headerData = Base64URL.decode(parts[0]), let header = try? JSONDecoder().decode(JOSEHeader.self, from: headerData),
              let algorithm = KeyAlgorithm(rawValue: header.alg), let encryption = header.enc.flatMap(ContentAlgorithm.init(rawValue:)),
              let encryptedKey = Base64URL.decode(parts[1]), let iv = Base64URL.decode(parts[2]), iv.count == 16,
              let ciphertext = Base64URL.decode(parts[3]), let tag = Base64URL.decode(parts[4]) else {
            throw OIDCError(.invalidRequest, reason: "jwe_malformed", "not a compact JWE with supported algorithms")
        }
        let cek = try key.decrypt(encryptedKey, padding: algorithm.padding)
        guard cek.count == encryption.keyLength else { throw OIDCError(.invalidRequest, reason: "jwe_key", "the content key has the wrong length") }
        let macKey = SymmetricKey(data: cek.prefix(encryption.tagLength))
        let expected = mac(aad: Data(parts[0].utf8), iv: iv, ciphertext: ciphertext, key: macKey, encryption: encryption)
        guard expected.count == tag.count, zip(expected, tag).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw OIDCError(.invalidRequest, reason: "jwe_tag", "the authentication tag does not match")
        }
        let plaintext = try AES._CBC.decrypt(ciphertext, using: SymmetricKey(data: cek.suffix(encryption.tagLength)), iv: try AES._CBC.IV(ivBytes: iv))
        return (header, plaintext)
    }

    static func seal(_ plaintext: Data, cek: Data, iv: Data, aad: Data, encryption: ContentAlgorithm) throws -> (Data, Data) {
        let half = encryption.tagLength
        let ciphertext = try AES._CBC.encrypt(plaintext, using: SymmetricKey(data: cek.suffix(half)), iv: try AES._CBC.IV(ivBytes: iv))
        return (ciphertext, mac(aad: aad, iv: iv, ciphertext: ciphertext, key: SymmetricKey(data: cek.prefix(half)), encryption: encryption))
    }

    static func mac(aad: Data, iv: Data, ciphertext: Data, key: SymmetricKey, encryption: ContentAlgorithm) -> Data {
        var bits = UInt64(aad.count * 8).bigEndian
        let length = withUnsafeBytes(of: &bits) { Data($0) }
        let input = aad + iv + ciphertext + length
        let full: Data = encryption == .a256cbcHS512 ? Data(HMAC<SHA512>.authenticationCode(for: input, using: key))
                                                     : Data(HMAC<SHA256>.authenticationCode(for: input, using: key))
        return full.prefix(encryption.tagLength)
    }
}

/// One of the gateway's RSA keys that open JWEs sent to it (encrypted request objects).
/// `@unchecked Sendable`: swift-crypto's `_RSA.Encryption.PrivateKey` wraps a BoringSSL key that is only ever read
/// after it is made (its `Signing` sibling is `Sendable`); this value never changes it.
public struct JWEDecryptionKey: @unchecked Sendable {
    public let kid: String
    let key: _RSA.Encryption.PrivateKey

    public init(kid: String, privateKeyPEM: String) throws {
        self.kid = kid
        key = try _RSA.Encryption.PrivateKey(pemRepresentation: privateKeyPEM)
    }

    /// The public JWK (`use: enc`, for RSA-OAEP and RSA-OAEP-256).
    public func publicJWK() throws -> JSONWebKey {
        let p = try key.publicKey.getKeyPrimitives()
        return JSONWebKey(kty: "RSA", kid: kid, use: "enc", alg: nil, n: Base64URL.encode(p.modulus), e: Base64URL.encode(p.publicExponent))
    }

    public func decrypt(_ compact: String) throws -> (header: JOSEHeader, payload: Data) { try JWE.decrypt(compact, with: key) }
}
