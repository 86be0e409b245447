import CNSValidation
import Crypto
import Foundation
import OIDC
import Testing
import _CryptoExtras

@Suite("Authorization requests")
struct AuthorizationRequestTests {
    static let provider = ProviderConfiguration(issuer: "https://op.example")
    static let key = ClientKey()
    static let spid = ClientRegistration(clientID: "https://rp.example", profile: .spid, redirectURIs: ["https://rp.example/cb"],
                                         authentication: .privateKeyJWT, jwks: JSONWebKeySet(keys: [key.jwk]), maximumLevel: .spidL2)
    static let other = ClientRegistration(clientID: "https://other.example", profile: .spid, redirectURIs: ["https://other.example/cb"],
                                          authentication: .privateKeyJWT, jwks: JSONWebKeySet(keys: [key.jwk]))
    static let plain = ClientRegistration(clientID: "plain", profile: .plain, redirectURIs: ["https://plain.example/cb?x=1"],
                                          authentication: .clientSecretBasic, secretHash: ClientRegistration.hashSecret("s"))
    let validator = AuthorizationRequestValidator(provider: provider) { id in [spid, other, plain].first { $0.clientID == id } }
    let now = Date()
    let state = String(repeating: "s", count: 32), nonce = String(repeating: "n", count: 40)
    let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(String(repeating: "v", count: 50).utf8))))

    func requestObject(_ changes: JSONObject = [:], client: String = "https://rp.example") throws -> String {
        let t = Int64(now.timeIntervalSince1970)
        var claims: JSONObject = [
            "iss": .string(client), "aud": .string("https://op.example"), "iat": .integer(t), "exp": .integer(t + 300), "jti": .string(UUID().uuidString),
            "client_id": .string(client), "response_type": .string("code"), "scope": .string("openid offline_access"),
            "redirect_uri": .string("https://rp.example/cb"), "state": .string(state), "nonce": .string(nonce),
            "code_challenge": .string(challenge), "code_challenge_method": .string("S256"),
            "acr_values": .string("https://www.spid.gov.it/SpidL2 https://www.spid.gov.it/SpidL1"),
            "claims": .object(["userinfo": .object([IdentityClaims.fiscalNumber: .null, "given_name": .object(["essential": .bool(true)])])]),
            "prompt": .string("consent login"),
        ]
        for (k, v) in changes { claims[k] = v == .null ? nil : v }
        return try Self.key.sign(claims)
    }

    func spidParameters(_ object: String) -> [String: String] {
        ["client_id": "https://rp.example", "response_type": "code", "scope": "openid offline_access", "request": object, "redirect_uri": "https://rp.example/cb"]
    }

    @Test("a SPID request object is accepted with its claims, level and forced login")
    func accepted() throws {
        let v = try validator.validate(spidParameters(try requestObject()), now: now)
        #expect(v.redirectURI == "https://rp.example/cb" && v.state == state && v.nonce == nonce)
        #expect(v.level == .spidL1 && v.forceFresh)
        #expect(Set(v.userinfoClaims) == [IdentityClaims.fiscalNumber, "given_name"] && v.idTokenClaims.isEmpty)
        #expect(v.consentAttributes == ["fiscalNumber", "name", "offlineAccess"])   // the consent page names the refresh token
        #expect(v.scopes == ["openid", "offline_access"])
    }

    @Test("a request object signed then encrypted to the provider's key is opened; unsigned, foreign-key or tampered ones are refused")
    func encryptedRequestObjects() throws {
        let pem = try _RSA.Encryption.PrivateKey(keySize: .bits2048).pemRepresentation
        let key = try JWEDecryptionKey(kid: "enc-1", privateKeyPEM: pem)
        let opening = AuthorizationRequestValidator(provider: Self.provider, decryptionKeys: ["enc-1": key]) { id in [Self.spid].first { $0.clientID == id } }
        let signed = try requestObject()
        for (alg, enc) in [(JWE.KeyAlgorithm.rsaOAEP256, JWE.ContentAlgorithm.a256cbcHS512), (.rsaOAEP, .a128cbcHS256)] {
            let encrypted = try JWE.encrypt(Data(signed.utf8), to: try key.publicJWK(), algorithm: alg, encryption: enc)
            let v = try opening.validate(spidParameters(encrypted), now: now)
            #expect(v.state == state && v.level == .spidL1)
        }
        func reason(_ object: String, _ validator: AuthorizationRequestValidator) -> String? {
            do { _ = try validator.validate(spidParameters(object), now: now); return nil } catch let e as OIDCError { return e.reason } catch { return "\(error)" }
        }
        // Encrypted but not signed inside (a bare JSON payload).
        let bare = try JWE.encrypt(Data(#"{"iss":"https://rp.example"}"#.utf8), to: try key.publicJWK(), algorithm: .rsaOAEP256, encryption: .a256cbcHS512)
        #expect(reason(bare, opening) == "jwe_not_signed")
        // To a key the provider does not have, or to no key at all.
        let otherKey = try JWEDecryptionKey(kid: "enc-2", privateKeyPEM: try _RSA.Encryption.PrivateKey(keySize: .bits2048).pemRepresentation)
        #expect(reason(try JWE.encrypt(Data(signed.utf8), to: try otherKey.publicJWK(), algorithm: .rsaOAEP256, encryption: .a256cbcHS512), opening) == "jwe_unknown_key")
        #expect(reason(try JWE.encrypt(Data(signed.utf8), to: try key.publicJWK(), algorithm: .rsaOAEP256, encryption: .a256cbcHS512), validator) == "jwe_unknown_key")
        // A flipped ciphertext byte fails the authentication tag.
        var parts = try JWE.encrypt(Data(signed.utf8), to: try key.publicJWK(), algorithm: .rsaOAEP256, encryption: .a256cbcHS512).split(separator: ".").map(String.init)
        var ciphertext = Base64URL.decode(parts[3])!
        ciphertext[0] ^= 1
        parts[3] = Base64URL.encode(ciphertext)
        #expect(reason(parts.joined(separator: "."), opening) == "jwe_decrypt")
    }

    func refusal(_ parameters: [String: String]) -> OIDCError? {
        #expect(throws: OIDCError.self) { try validator.validate(parameters, now: now) }
    }

    @Test("request object refusals: expired, foreign, for another client, unsigned, HS256, with sub, scope mismatch, wrong audience")
    func requestObjectRefusals() throws {
        let t = Int64(now.timeIntervalSince1970)
        let cases: [(String, [String: String])] = [
            ("jwt_expired", spidParameters(try requestObject(["exp": .integer(t - 120), "iat": .integer(t - 400)]))),
            ("jwt_lifetime", spidParameters(try requestObject(["exp": .integer(t + 86_400)]))),
            ("request_object_audience", spidParameters(try requestObject(["aud": .string("https://evil.example")]))),
            ("request_object_sub", spidParameters(try requestObject(["sub": .string("https://rp.example")]))),
            ("request_object_mismatch", spidParameters(try requestObject(["scope": .string("openid")]))),
            ("request_object_client", spidParameters(try requestObject(["client_id": .string("https://other.example")]))),
            ("request_object_required", ["client_id": "https://rp.example", "response_type": "code", "scope": "openid", "redirect_uri": "https://rp.example/cb"]),
        ]
        for (reason, parameters) in cases {
            let error = refusal(parameters)
            #expect(error?.reason == reason, "\(reason)")
            #expect(error?.delivery == .redirect(uri: "https://rp.example/cb", state: nil), "\(reason)")
        }
        // The other client's request object, replayed under this client's ID.
        var replayed = spidParameters(try requestObject(client: "https://other.example"))
        replayed["client_id"] = "https://rp.example"
        #expect(refusal(replayed)?.reason == "request_object_issuer")
        // alg none and HS256
        let parts = try requestObject().split(separator: ".")
        let none = Base64URL.encode(Data(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "."
        #expect(refusal(spidParameters(none))?.code == .invalidRequestObject)
        let hsHeader = Base64URL.encode(Data(#"{"alg":"HS256"}"#.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data((hsHeader + "." + parts[1]).utf8), using: SymmetricKey(data: Data(Self.key.jwk.n!.utf8)))
        #expect(refusal(spidParameters(hsHeader + "." + parts[1] + "." + Base64URL.encode(Data(mac))))?.reason == "jwt_algorithm")
    }

    @Test("redirect_uri variants are shown on a page, never redirected to")
    func redirectVariants() throws {
        let variants = ["https://plain.example/cb?x=1/", "https://PLAIN.example/cb?x=1", "https://plain.example/cb?x=1&y=2", "https://plain.example/cb",
                        "https://plain.example/cb?x=1#f", "https://evil.example/?https://plain.example/cb?x=1", "//evil.example/cb", "https://plain.example.evil.example/cb?x=1"]
        for uri in variants {
            let error = refusal(["client_id": "plain", "response_type": "code", "scope": "openid", "redirect_uri": uri,
                                 "code_challenge": challenge, "code_challenge_method": "S256"])
            #expect(error?.delivery == .page, "\(uri)")
            #expect(error?.reason == "redirect_uri_mismatch", "\(uri)")
        }
        #expect(refusal(["client_id": "nobody", "redirect_uri": "https://evil.example/"])?.delivery == .page)
    }

    @Test("plain client: PKCE S256 required, plain refused; prompt=none answers login_required; profile scope; claims for the ID token")
    func plainClientRules() throws {
        let base = ["client_id": "plain", "response_type": "code", "scope": "openid profile", "redirect_uri": "https://plain.example/cb?x=1", "state": "abc",
                    "code_challenge": challenge, "code_challenge_method": "S256"]
        let v = try validator.validate(base.merging(["claims": #"{"id_token":{"family_name":{"essential":true},"email":null}}"#]) { $1 }, now: now)
        #expect(v.idTokenClaims == ["family_name"])
        #expect(Set(v.userinfoClaims) == Set(IdentityClaims.profileScope))
        #expect(!v.forceFresh && v.level == .spidL1)
        for (change, reason) in [(["code_challenge_method": "plain"], "pkce_method"), (["code_challenge": ""], "pkce_challenge"),
                                 (["prompt": "none"], "prompt_none"), (["response_type": "token"], "response_type"), (["scope": "profile"], "no_openid_scope"),
                                 (["acr_values": "urn:unknown"], "acr_values"), (["max_age": "-1"], "max_age"), (["claims": "[1]"], "claims_parameter")] {
            let error = refusal(base.merging(change) { $1 })
            #expect(error?.reason == reason, "\(change)")
            #expect(error?.delivery == .redirect(uri: "https://plain.example/cb?x=1", state: "abc"), "\(change)")
        }
        var noPKCE = base
        noPKCE["code_challenge"] = nil
        #expect(refusal(noPKCE)?.reason == "pkce_missing")
        #expect(refusal(base.merging(["prompt": "none"]) { $1 })?.code == .loginRequired)
        #expect(try validator.validate(base.merging(["max_age": "0"]) { $1 }, now: now).forceFresh)
    }

    @Test("SPID: short state or nonce, and a level above the client's maximum, are refused")
    func spidLengths() throws {
        #expect(refusal(spidParameters(try requestObject(["nonce": .string("short")])))?.reason == "nonce_format")
        #expect(refusal(spidParameters(try requestObject(["state": .string(String(repeating: "-", count: 40))])))?.reason == "state_format")
        #expect(refusal(spidParameters(try requestObject(["acr_values": .string("https://www.spid.gov.it/SpidL3")])))?.code == .accessDenied)
    }
}

extension AuthorizationRequestTests {
    @Test("PKCE optional (plain clients only): no challenge is accepted and then no verifier; a plain challenge is still refused")
    func optionalPKCE() throws {
        var relaxed = Self.plain
        relaxed.pkceRequired = false
        try relaxed.validate()
        var spidRelaxed = Self.spid
        spidRelaxed.pkceRequired = false
        #expect(throws: OIDCError.self) { try spidRelaxed.validate() }
        let client = relaxed
        let validator = AuthorizationRequestValidator(provider: Self.provider) { $0 == "plain" ? client : nil }
        let base = ["client_id": "plain", "response_type": "code", "scope": "openid", "redirect_uri": "https://plain.example/cb?x=1"]
        #expect(try validator.validate(base, now: now).codeChallenge == nil)
        #expect(throws: OIDCError.self) { try validator.validate(base.merging(["code_challenge": challenge, "code_challenge_method": "plain"]) { $1 }, now: now) }
        try PKCE.verify(verifier: nil, challenge: nil)
        #expect(throws: OIDCError.self) { try PKCE.verify(verifier: String(repeating: "v", count: 50), challenge: nil) }
    }
}
