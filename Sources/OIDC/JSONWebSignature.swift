import Crypto
import Foundation
import _CryptoExtras

// JOSE is written here on swift-crypto rather than taken from jwt-kit: the gateway needs fixed algorithm lists per
// purpose, `typ` checks, nested JWS-in-JWE (RSA-OAEP-256 + A256CBC-HS512/A128CBC-HS256, which jwt-kit lacks) and keys
// that come from its own storage; the cryptography itself is swift-crypto's.

/// The signature algorithms the gateway accepts and uses. `none` and the HMAC family are never accepted (DOMAIN.md §4:
/// MUST NOT), so a token "signed" with a public key as an HMAC secret cannot pass.
public enum JWSAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    case rs256 = "RS256"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case es256 = "ES256"
}

/// The protected header of a JWS or JWE.
public struct JOSEHeader: Sendable, Hashable, Codable {
    public var alg: String
    public var kid: String?
    public var typ: String?
    public var cty: String?
    public var enc: String?
    public var crit: [String]?

    /// The header as a JSON object (members that are nil left out).
    var json: JSONObject {
        var o: JSONObject = ["alg": .string(alg)]
        for (name, value) in [("kid", kid), ("typ", typ), ("cty", cty), ("enc", enc)] { if let value { o[name] = .string(value) } }
        if let crit { o["crit"] = .array(crit.map(JSONValue.string)) }
        return o
    }

    public init(alg: String, kid: String? = nil, typ: String? = nil, cty: String? = nil, enc: String? = nil) {
        self.alg = alg
        self.kid = kid
        self.typ = typ
        self.cty = cty
        self.enc = enc
    }
}

/// One of the gateway's own signing keys (from storage), ready to sign JWTs.
public struct JWSSigningKey: Sendable {
    enum Backing: Sendable {
        /// The public half from swift-crypto (for the JWKS), the signing from libcrypto (see ``LibcryptoRSAKey``).
        case rsa(_RSA.Signing.PublicKey, LibcryptoRSAKey)
        case p256(P256.Signing.PrivateKey)
    }

    public let kid: String
    public let algorithm: JWSAlgorithm
    let backing: Backing

    /// `algorithm` RS256 (RSA key) or ES256 (P-256 key), from a PKCS#8 or traditional PEM.
    public init(kid: String, algorithm: String, privateKeyPEM: String) throws {
        self.kid = kid
        switch algorithm {
        case "RS256":
            self.algorithm = .rs256
            backing = .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM).publicKey, try LibcryptoRSAKey(pem: privateKeyPEM))
        case "ES256":
            self.algorithm = .es256
            backing = .p256(try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM))
        default:
            throw OIDCError(.serverError, reason: "key_algorithm", "signing key \(kid) has algorithm '\(algorithm)'; RS256 and ES256 are supported")
        }
    }

    /// The public half, for the JWKS.
    public func publicJWK() throws -> JSONWebKey {
        switch backing {
        case .rsa(let k, _): return try JSONWebKey(rsa: k, kid: kid, use: "sig", alg: algorithm.rawValue)
        case .p256(let k): return JSONWebKey(p256: k.publicKey, kid: kid, use: "sig", alg: algorithm.rawValue)
        }
    }

    /// A compact JWS of `claims` with `typ` (`JWT`, `at+jwt`, `logout+jwt`).
    public func sign(_ claims: JSONObject, type: String) throws -> String {
        try sign(payload: claims.jsonData(), header: JOSEHeader(alg: algorithm.rawValue, kid: kid, typ: type))
    }

    public func sign(payload: Data, header: JOSEHeader) throws -> String {
        let input = Base64URL.encode(try header.json.jsonData()) + "." + Base64URL.encode(payload)
        let signature: Data
        switch backing {
        case .rsa(_, let k): signature = try k.signSHA256(Data(input.utf8))
        case .p256(let k): signature = try k.signature(for: SHA256.hash(data: Data(input.utf8))).rawRepresentation
        }
        return input + "." + Base64URL.encode(signature)
    }
}

/// A JWS whose signature checked out.
public struct VerifiedJWS: Sendable {
    public let header: JOSEHeader
    public let claims: JSONObject
    /// The key that verified it.
    public let key: JSONWebKey
}

public enum JWS {
    /// The largest compact JWS read (request objects, client assertions, tokens): 64 KiB.
    public static let maximumSize = 65_536

    /// Verifies a compact JWS with one of `keys`: the header's `alg` must be in `allowed` and fit the key's type (and
    /// the key's own `alg`, if it names one); a `kid` selects the key; `crit` is refused (no extension is understood).
    public static func verify(_ compact: String, keys: [JSONWebKey], allowed: Set<JWSAlgorithm>, purpose: String,
                              error code: OIDCError.Code = .invalidRequest) throws -> VerifiedJWS {
        try verify(compact, keys: keys.compactMap { try? JWSVerificationKey($0) }, allowed: allowed, purpose: purpose, error: code)
    }

    /// As above, with keys parsed beforehand.
    public static func verify(_ compact: String, keys: [JWSVerificationKey], allowed: Set<JWSAlgorithm>, purpose: String,
                              error code: OIDCError.Code = .invalidRequest) throws -> VerifiedJWS {
        func fail(_ reason: String, _ detail: String) -> OIDCError { OIDCError(code, reason: reason, "\(purpose): \(detail)") }
        guard compact.utf8.count <= maximumSize else { throw fail("jwt_too_large", "larger than \(maximumSize) bytes") }
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw fail(parts.count == 5 ? "jwe_not_accepted" : "jwt_malformed", parts.count == 5 ? "an encrypted JWT is not accepted here" : "not a compact JWS (three base64url parts)")
        }
        guard let headerData = Base64URL.decode(parts[0]), let header = try? JSONDecoder().decode(JOSEHeader.self, from: headerData),
              let payload = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]) else {
            throw fail("jwt_malformed", "the header, payload or signature is not valid base64url JSON")
        }
        guard let algorithm = JWSAlgorithm(rawValue: header.alg), allowed.contains(algorithm) else {
            throw fail("jwt_algorithm", "alg '\(header.alg)' is not accepted (accepted: \(allowed.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        if let crit = header.crit { throw fail("jwt_crit", "critical header extensions \(crit) are not understood") }
        guard let claims = try? JSONObject.parse(payload) else { throw fail("jwt_malformed", "the payload is not a JSON object") }
        let candidates = keys.filter { candidate in
            let key = candidate.jwk
            return key.isForSigning && (header.kid == nil || key.kid == header.kid) && (key.alg == nil || key.alg == algorithm.rawValue)
                && (algorithm == .es256 ? key.kty == "EC" : key.kty == "RSA")
        }
        guard !candidates.isEmpty else {
            throw fail("jwt_unknown_key", "no known \(algorithm.rawValue) key" + (header.kid.map { " with kid '\($0)'" } ?? ""))
        }
        let input = Data(parts[0].utf8) + Data(".".utf8) + Data(parts[1].utf8)
        let digest = SHA256.hash(data: input)
        for key in candidates {
            let valid: Bool
            switch (algorithm, key.parsed) {
            case (.rs256, .rsa(let k)): valid = k.isValidSignature(.init(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
            case (.ps256, .rsa(let k)): valid = k.isValidSignature(.init(rawRepresentation: signature), for: digest, padding: .PSS)
            case (.rs512, .rsa(let k)): valid = k.isValidSignature(.init(rawRepresentation: signature), for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5)
            case (.es256, .p256(let k)): valid = (try? P256.Signing.ECDSASignature(rawRepresentation: signature)).map { k.isValidSignature($0, for: digest) } ?? false
            default: valid = false
            }
            if valid { return VerifiedJWS(header: header, claims: claims, key: key.jwk) }
        }
        throw fail("jwt_signature", "the signature does not verify with the registered key")
    }

    /// The claims of a compact JWS without checking it (to find the client a request object says it is from, before
    /// its keys are known). Never trust what this returns.
    public static func unverifiedClaims(_ compact: String) -> JSONObject? {
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, compact.utf8.count <= maximumSize, let payload = Base64URL.decode(parts[1]) else { return nil }
        return try? JSONObject.parse(payload)
    }
}
