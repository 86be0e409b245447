import Crypto
import Foundation
import _CryptoExtras

/// A public JSON Web Key (RFC 7517): RSA or P-256. Private members are refused on import, so a client that
/// publishes its private key by mistake is told rather than silently accepted.
public struct JSONWebKey: Sendable, Hashable, Codable {
    public var kty: String
    public var kid: String?
    public var use: String?
    public var alg: String?
    public var n: String?
    public var e: String?
    public var crv: String?
    public var x: String?
    public var y: String?

    public init(kty: String, kid: String?, use: String?, alg: String?, n: String? = nil, e: String? = nil, crv: String? = nil, x: String? = nil, y: String? = nil) {
        self.kty = kty
        self.kid = kid
        self.use = use
        self.alg = alg
        self.n = n
        self.e = e
        self.crv = crv
        self.x = x
        self.y = y
    }

    private enum PrivateMember: String, CodingKey, CaseIterable { case d, p, q, dp, dq, qi, k }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let secret = try decoder.container(keyedBy: PrivateMember.self)
        if let leaked = PrivateMember.allCases.first(where: { secret.contains($0) }) {
            throw OIDCError(.invalidClient, reason: "private_jwk", "a published JWK contains the private member '\(leaked.rawValue)'; publish only the public key")
        }
        kty = try c.decode(String.self, forKey: .kty)
        kid = try c.decodeIfPresent(String.self, forKey: .kid)
        use = try c.decodeIfPresent(String.self, forKey: .use)
        alg = try c.decodeIfPresent(String.self, forKey: .alg)
        n = try c.decodeIfPresent(String.self, forKey: .n)
        e = try c.decodeIfPresent(String.self, forKey: .e)
        crv = try c.decodeIfPresent(String.self, forKey: .crv)
        x = try c.decodeIfPresent(String.self, forKey: .x)
        y = try c.decodeIfPresent(String.self, forKey: .y)
    }

    /// The RSA public key of an `RSA` JWK; RSA keys under 2048 bits are refused (DOMAIN.md §4).
    public func rsaSigningKey() throws -> _RSA.Signing.PublicKey {
        try rsaKey { try _RSA.Signing.PublicKey(n: $0, e: $1) } bits: { $0.keySizeInBits }
    }

    public func rsaEncryptionKey() throws -> _RSA.Encryption.PublicKey {
        try rsaKey { try _RSA.Encryption.PublicKey(n: $0, e: $1) } bits: { $0.keySizeInBits }
    }

    private func rsaKey<Key>(_ make: (Data, Data) throws -> Key, bits: (Key) -> Int) throws -> Key {
        guard kty == "RSA", let n = n.flatMap(Base64URL.decode), let e = e.flatMap(Base64URL.decode) else {
            throw OIDCError(.invalidClient, reason: "bad_jwk", "JWK \(kid ?? "(no kid)") is not a usable RSA key (kty RSA with n and e)")
        }
        let key = try make(n, e)
        guard bits(key) >= 2048 else {
            throw OIDCError(.invalidClient, reason: "weak_jwk", "JWK \(kid ?? "(no kid)") is RSA-\(bits(key)); at least 2048 bits are required")
        }
        return key
    }

    public func p256Key() throws -> P256.Signing.PublicKey {
        guard kty == "EC", crv == "P-256", let x = x.flatMap(Base64URL.decode), let y = y.flatMap(Base64URL.decode), x.count == 32, y.count == 32 else {
            throw OIDCError(.invalidClient, reason: "bad_jwk", "JWK \(kid ?? "(no kid)") is not a usable P-256 key (kty EC, crv P-256, x and y)")
        }
        return try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
    }

    /// Whether the key can check a signature (not declared for encryption only).
    public var isForSigning: Bool { use == nil || use == "sig" }
    public var isForEncryption: Bool { use == "enc" }

    init(rsa key: _RSA.Signing.PublicKey, kid: String, use: String, alg: String) throws {
        let p = try key.getKeyPrimitives()
        self.init(kty: "RSA", kid: kid, use: use, alg: alg, n: Base64URL.encode(p.modulus), e: Base64URL.encode(p.publicExponent))
    }

    init(p256 key: P256.Signing.PublicKey, kid: String, use: String, alg: String) {
        let raw = key.x963Representation
        self.init(kty: "EC", kid: kid, use: use, alg: alg, crv: "P-256", x: Base64URL.encode(raw[1..<33]), y: Base64URL.encode(raw[33..<65]))
    }
}

/// A JWK Set (RFC 7517 §5).
public struct JSONWebKeySet: Sendable, Hashable, Codable {
    public var keys: [JSONWebKey]

    public init(keys: [JSONWebKey]) {
        self.keys = keys
    }

    /// Parses a client's published JWKS; every key must be usable, so a typo is found when the client is added.
    public static func parse(_ data: Data) throws -> JSONWebKeySet {
        let set: JSONWebKeySet
        do { set = try JSONDecoder().decode(JSONWebKeySet.self, from: data) } catch let error as OIDCError { throw error } catch {
            throw OIDCError(.invalidClient, reason: "bad_jwks", "the JWKS is not a JSON object with a 'keys' array of JWKs: \(error)")
        }
        for key in set.keys {
            switch key.kty {
            case "RSA": _ = try key.rsaSigningKey()
            case "EC": _ = try key.p256Key()
            default: throw OIDCError(.invalidClient, reason: "bad_jwk", "JWK \(key.kid ?? "(no kid)") has kty '\(key.kty)'; only RSA and EC P-256 keys are accepted")
            }
        }
        return set
    }
}

/// A signature-checking JWK with its public key parsed once (the gateway's own keys are checked on every userinfo call).
public struct JWSVerificationKey: Sendable {
    enum Parsed: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
    }

    public let jwk: JSONWebKey
    let parsed: Parsed

    public init(_ jwk: JSONWebKey) throws {
        self.jwk = jwk
        parsed = jwk.kty == "EC" ? .p256(try jwk.p256Key()) : .rsa(try jwk.rsaSigningKey())
    }
}
