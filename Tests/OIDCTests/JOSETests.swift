import Crypto
import Foundation
import OIDC
import Testing
import _CryptoExtras

/// A client's key pair made at test time, with its public JWK.
struct ClientKey {
    let privateKey: _RSA.Signing.PrivateKey
    let kid: String
    var signer: JWSSigningKey { try! JWSSigningKey(kid: kid, algorithm: "RS256", privateKeyPEM: privateKey.pemRepresentation) }
    var jwk: JSONWebKey { try! signer.publicJWK() }

    init(kid: String = "client-key") {
        privateKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        self.kid = kid
    }

    func sign(_ claims: JSONObject, alg: String = "RS256", typ: String = "JWT") throws -> String {
        try signer.sign(payload: claims.jsonData(), header: JOSEHeader(alg: alg, kid: kid, typ: typ))
    }
}

@Suite("JOSE")
struct JOSETests {
    @Test("RS256 and ES256 JWTs verify with the published key and not with another")
    func roundTrip() throws {
        let rsa = try JWSSigningKey(kid: "r", algorithm: "RS256", privateKeyPEM: _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
        let ec = try JWSSigningKey(kid: "e", algorithm: "ES256", privateKeyPEM: P256.Signing.PrivateKey().pemRepresentation)
        for key in [rsa, ec] {
            let token = try key.sign(["sub": .string("x"), "n": .integer(3)], type: "JWT")
            let verified = try JWS.verify(token, keys: [rsa.publicJWK(), ec.publicJWK()], allowed: [.rs256, .es256], purpose: "test")
            #expect(verified.claims["sub"] == .string("x"))
            #expect(verified.claims["n"] == .integer(3))
            #expect(verified.key.kid == key.kid)
            let other = try JWSSigningKey(kid: key.kid, algorithm: key.algorithm.rawValue, privateKeyPEM: key.algorithm == .es256
                ? P256.Signing.PrivateKey().pemRepresentation : _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
            #expect(throws: OIDCError.self) { try JWS.verify(token, keys: [other.publicJWK()], allowed: [.rs256, .es256], purpose: "test") }
        }
    }

    @Test("alg none, HS256 keyed with the public key, and a tampered payload are refused")
    func refusedAlgorithms() throws {
        let key = ClientKey()
        let payload = Base64URL.encode(try (["sub": .string("admin")] as JSONObject).jsonData())
        let none = Base64URL.encode(Data(#"{"alg":"none"}"#.utf8)) + "." + payload + "."
        #expect(throws: OIDCError.self) { try JWS.verify(none, keys: [key.jwk], allowed: [.rs256], purpose: "t") }
        // HS256 with the RSA public key (its JWK JSON, as a confused verifier would use it) as the HMAC secret.
        let header = Base64URL.encode(Data(#"{"alg":"HS256","kid":"client-key"}"#.utf8))
        let secret = SymmetricKey(data: try JSONEncoder().encode(key.jwk))
        let mac = HMAC<SHA256>.authenticationCode(for: Data((header + "." + payload).utf8), using: secret)
        let hs = header + "." + payload + "." + Base64URL.encode(Data(mac))
        let error = #expect(throws: OIDCError.self) { try JWS.verify(hs, keys: [key.jwk], allowed: [.rs256], purpose: "t") }
        #expect(error?.reason == "jwt_algorithm")
        let good = try key.sign(["sub": .string("user")])
        let parts = good.split(separator: ".")
        let tampered = parts[0] + "." + payload + "." + parts[2]
        #expect(throws: OIDCError.self) { try JWS.verify(String(tampered), keys: [key.jwk], allowed: [.rs256], purpose: "t") }
    }

    @Test("a JWK set with a private member or a short RSA key is refused")
    func jwksRefusals() throws {
        let key = ClientKey()
        var json = try JSONEncoder().encode(JSONWebKeySet(keys: [key.jwk]))
        #expect(try JSONWebKeySet.parse(json).keys.count == 1)
        let leaked = String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\"kty\"", with: "\"d\":\"AAAA\",\"kty\"")
        let error = #expect(throws: OIDCError.self) { try JSONWebKeySet.parse(Data(leaked.utf8)) }
        #expect(error?.reason == "private_jwk")
        var short = key.jwk
        short.n = Base64URL.encode(Data(repeating: 0xC5, count: 128))
        json = try JSONEncoder().encode(JSONWebKeySet(keys: [short]))
        #expect(throws: (any Error).self) { try JSONWebKeySet.parse(json) }
    }

    @Test("JWE: RSA-OAEP-256 with A256CBC-HS512 and RSA-OAEP with A128CBC-HS256 round trip; a flipped bit fails the tag")
    func jwe() throws {
        let recipient = try _RSA.Encryption.PrivateKey(keySize: .bits2048)
        let p = try recipient.publicKey.getKeyPrimitives()
        let jwk = JSONWebKey(kty: "RSA", kid: "enc", use: "enc", alg: nil, n: Base64URL.encode(p.modulus), e: Base64URL.encode(p.publicExponent))
        for (alg, enc) in [(JWE.KeyAlgorithm.rsaOAEP256, JWE.ContentAlgorithm.a256cbcHS512), (.rsaOAEP, .a128cbcHS256)] {
            let message = Data("header.payload.signature".utf8)
            let compact = try JWE.encrypt(message, to: jwk, algorithm: alg, encryption: enc)
            let (header, plaintext) = try JWE.decrypt(compact, with: recipient)
            #expect(plaintext == message)
            #expect(header.cty == "JWT" && header.enc == enc.rawValue && header.alg == alg.rawValue)
            var parts = compact.split(separator: ".").map(String.init)
            var ciphertext = Base64URL.decode(parts[3])!
            ciphertext[0] ^= 1
            parts[3] = Base64URL.encode(ciphertext)
            #expect(throws: OIDCError.self) { try JWE.decrypt(parts.joined(separator: "."), with: recipient) }
        }
    }

    @Test("PKCE: only the matching S256 verifier passes")
    func pkce() throws {
        let verifier = TokenIssuer.randomToken() + "abcdefgh"
        let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
        try PKCE.verify(verifier: verifier, challenge: challenge)
        #expect(throws: OIDCError.self) { try PKCE.verify(verifier: verifier + "x", challenge: challenge) }
        #expect(throws: OIDCError.self) { try PKCE.verify(verifier: nil, challenge: challenge) }
        #expect(throws: OIDCError.self) { try PKCE.verify(verifier: challenge, challenge: challenge) }   // plain: the challenge itself
    }

    @Test("pairwise subjects differ by sector and are stable; public subjects are shared")
    func subjects() {
        let ids = SubjectIdentifiers(secret: Data(repeating: 7, count: 32))
        let a = ClientRegistration(clientID: "a", profile: .plain, redirectURIs: ["https://a.example/cb"], authentication: .clientSecretBasic)
        var a2 = a
        a2.clientID = "a2"
        let b = ClientRegistration(clientID: "b", profile: .plain, redirectURIs: ["https://b.example/cb"], authentication: .clientSecretBasic)
        let cf = "RSSMRA80A01H501U"
        #expect(ids.subject(codiceFiscale: cf, for: a) == ids.subject(codiceFiscale: cf, for: a2))
        #expect(ids.subject(codiceFiscale: cf, for: a) != ids.subject(codiceFiscale: cf, for: b))
        var pa = a, pb = b
        pa.subjectType = .public
        pb.subjectType = .public
        #expect(ids.subject(codiceFiscale: cf, for: pa) == ids.subject(codiceFiscale: cf, for: pb))
        #expect(!ids.subject(codiceFiscale: cf, for: a).contains(cf))
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test("round trips every length against Foundation's base64, and refuses padding, foreign characters and non-canonical forms")
    func roundTrip() {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = Data((0..<length).map { _ in random.next() as UInt8 })
            let encoded = Base64URL.encode(bytes)
            let reference = bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(encoded == reference)
            #expect(Base64URL.decode(encoded) == bytes)
        }
        for bad in ["QQ==", "Q", "QQ+", "QQ/", "QR", "QUI=", "a b"] { #expect(Base64URL.decode(bad) == nil, "\(bad)") }
        #expect(Base64URL.decode("QQ") == Data([0x41]))
    }
}

@Suite("JSON")
struct JSONParserTests {
    @Test("objects parse like Foundation's JSONSerialization; malformed JSON and duplicate members are refused")
    func parse() throws {
        let text = #"{"s":"a\"b\\c\u00e8\ud83d\ude00","i":1764567890,"n":-0.5,"e":2.5e-1,"b":true,"f":false,"z":null,"a":[1,"x",{"k":[]}],"o":{}}"#
        let object = try JSONObject.parse(Data(text.utf8))
        #expect(object["s"] == .string("a\"b\\cè😀"))
        #expect(object["i"] == .integer(1_764_567_890) && object["n"] == .number(-0.5) && object["e"] == .number(0.25))
        #expect(object["b"] == .bool(true) && object["f"] == .bool(false) && object["z"] == .null)
        #expect(object["a"] == .array([.integer(1), .string("x"), .object(["k": .array([])])]) && object["o"] == .object([:]))
        let reparsed = try JSONObject.parse(try object.jsonData())
        #expect(reparsed == object)
        for bad in [#"{"a":1,"a":2}"#, #"{"a":1"#, #"{"a":01}"#, #"{"a":.5}"#, #"[1]"#, #"{"a":1} x"#, "{\"a\":\"\u{01}\"}", #"{"a":"\x"}"#,
                    #"{"a":tru}"#, #"{'a':1}"#, #"{"a":1,}"#, String(repeating: "[", count: 40)] {
            #expect(throws: OIDCError.self, "\(bad)") { try JSONObject.parse(Data(bad.utf8)) }
        }
    }
}

extension JSONParserTests {
    @Test("written JSON escapes what it must and reads back the same; keys are sorted")
    func write() throws {
        let object: JSONObject = ["b": .string("quote \" backslash \\ newline \n tab \t bell \u{07} è /"), "a": .array([.integer(-3), .number(0.125), .bool(true), .null]),
                                  "c": .object(["y": .integer(1), "x": .number(2)])]
        let text = String(decoding: try object.jsonData(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"a":[-3,0.125,true,null],"b":"quote \" backslash \\ newline \n tab \t bell \u0007 è /","c":{"x":2,"y":1}}"#), "\(text)")
        let back = try JSONObject.parse(Data(text.utf8))
        #expect(back["b"] == object["b"] && back["a"] == object["a"])
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(foundation?["b"] as? String == object["b"]?.string)
    }
}
