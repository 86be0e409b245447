import Foundation
import OIDC
import Testing

@Suite("Client authentication")
struct ClientAuthenticationTests {
    static let provider = ProviderConfiguration(issuer: "https://op.example")
    static let key = ClientKey()
    static let secret = "s3cret-s3cret-s3cret"
    static let clients = [
        ClientRegistration(clientID: "https://rp.example", profile: .spid, redirectURIs: ["https://rp.example/cb"], authentication: .privateKeyJWT,
                           jwks: JSONWebKeySet(keys: [key.jwk])),
        ClientRegistration(clientID: "basic", profile: .plain, redirectURIs: ["https://b.example/cb"], authentication: .clientSecretBasic,
                           secretHash: ClientRegistration.hashSecret(secret)),
    ]
    let authenticator = ClientAuthenticator(provider: provider) { id in clients.first { $0.clientID == id } }
    let now = Date()

    func assertion(_ changes: JSONObject = [:]) throws -> [String: String] {
        let t = Int64(now.timeIntervalSince1970)
        var claims: JSONObject = ["iss": .string("https://rp.example"), "sub": .string("https://rp.example"), "aud": .string("https://op.example/oidc/token"),
                                  "iat": .integer(t), "exp": .integer(t + 60), "jti": .string(UUID().uuidString)]
        for (k, v) in changes { claims[k] = v == .null ? nil : v }
        return ["client_assertion_type": ClientAuthenticator.assertionType, "client_assertion": try Self.key.sign(claims)]
    }

    func refusal(_ form: [String: String], authorization: String? = nil) -> OIDCError? {
        #expect(throws: OIDCError.self) { try authenticator.authenticate(form: form, authorization: authorization, endpoint: Self.provider.tokenEndpoint, now: now) }
    }

    @Test("private_key_jwt: a good assertion names its jti; wrong iss/sub, audience, missing jti, expired or long-lived assertions are invalid_client")
    func privateKeyJWT() throws {
        let good = try authenticator.authenticate(form: try assertion(), authorization: nil, endpoint: Self.provider.tokenEndpoint, now: now)
        #expect(good.registration.clientID == "https://rp.example" && good.assertionID?.hasPrefix("https://rp.example\n") == true)
        let t = Int64(now.timeIntervalSince1970)
        for (changes, reason) in [(["iss": JSONValue.string("https://other.example")], "assertion_subject"), (["aud": .string("https://evil.example")], "assertion_audience"),
                                  (["jti": .null], "assertion_jti"), (["exp": .integer(t - 300), "iat": .integer(t - 400)], "jwt_expired"),
                                  (["exp": .integer(t + 7200)], "jwt_lifetime")] {
            let error = refusal(try assertion(changes))
            #expect(error?.code == .invalidClient && error?.reason == reason, "\(reason): \(String(describing: error))")
        }
        var wrongType = try assertion()
        wrongType["client_assertion_type"] = "urn:other"
        #expect(refusal(wrongType)?.reason == "assertion_type")
        // An assertion "for" the secret-based client is refused: it registered another method.
        let basicAssertion = try assertion(["iss": .string("basic"), "sub": .string("basic")])
        #expect(refusal(basicAssertion.merging(["client_id": "basic"]) { $1 })?.reason == "wrong_auth_method")
    }

    @Test("client secrets: Basic with URL-encoded credentials; a wrong secret, another method, or two methods at once are refused")
    func secrets() throws {
        let header = "Basic " + Data("basic:\(Self.secret)".utf8).base64EncodedString()
        #expect(try authenticator.authenticate(form: [:], authorization: header, endpoint: "", now: now).registration.clientID == "basic")
        #expect(refusal([:], authorization: "Basic " + Data("basic:wrong".utf8).base64EncodedString())?.reason == "bad_secret")
        #expect(refusal(["client_id": "basic", "client_secret": Self.secret])?.reason == "wrong_auth_method", "registered client_secret_basic")
        #expect(refusal(["client_secret": Self.secret], authorization: header)?.code == .invalidRequest)
        #expect(refusal([:])?.reason == "no_client_authentication")
        #expect(refusal([:], authorization: "Basic %%%")?.reason == "bad_basic")
    }
}

@Suite("Client registrations")
struct ClientRegistrationTests {
    @Test("a stored registration round-trips, and one from an earlier version (fewer members) gets the safe defaults")
    func decoding() throws {
        var client = ClientRegistration(clientID: "c", profile: .plain, redirectURIs: ["https://c.example/cb"], authentication: .clientSecretBasic,
                                        secretHash: "ab", subjectType: .public, maximumLevel: .spidL2, pkceRequired: false)
        client.encryptIDToken = false
        let back = try JSONDecoder().decode(ClientRegistration.self, from: try JSONEncoder().encode(client))
        #expect(back == client)
        let old = #"{"clientID":"o","profile":"spid","redirectURIs":["https://o.example/cb"],"authentication":"private_key_jwt"}"#
        let decoded = try JSONDecoder().decode(ClientRegistration.self, from: Data(old.utf8))
        #expect(decoded.pkceRequired && decoded.subjectType == .pairwise && !decoded.encryptIDToken && decoded.idTokenSigningAlgorithm == "RS256")
    }

    @Test("registration rules: spid needs private_key_jwt, pairwise, an https client ID and keys; redirect URIs https (loopback http), no fragment")
    func validation() {
        let key = ClientKey().jwk
        let good = ClientRegistration(clientID: "https://rp.example", profile: .spid, redirectURIs: ["https://rp.example/cb"], authentication: .privateKeyJWT,
                                      jwks: JSONWebKeySet(keys: [key]))
        #expect(throws: Never.self) { try good.validate() }
        var cases: [(String, ClientRegistration)] = []
        var c = good; c.authentication = .clientSecretBasic; c.secretHash = "x"; cases.append(("secret", c))
        c = good; c.subjectType = .public; cases.append(("public", c))
        c = good; c.clientID = "rp"; cases.append(("client id", c))
        c = good; c.jwks = nil; cases.append(("no keys", c))
        c = good; c.redirectURIs = ["http://rp.example/cb"]; cases.append(("http", c))
        c = good; c.redirectURIs = ["https://rp.example/cb#x"]; cases.append(("fragment", c))
        c = good; c.redirectURIs = []; cases.append(("none", c))
        c = good; c.encryptIDToken = true; cases.append(("no enc key", c))
        for (name, registration) in cases { #expect(throws: OIDCError.self, "\(name)") { try registration.validate() } }
        var loopback = good
        loopback.profile = .plain
        loopback.redirectURIs = ["http://127.0.0.1:8080/cb"]
        #expect(throws: Never.self) { try loopback.validate() }
    }
}
