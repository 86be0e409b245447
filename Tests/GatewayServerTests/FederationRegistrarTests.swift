import Crypto
import FederationTestSupport
import Foundation
import GatewayAudit
import GatewayStorage
import Logging
import LoginOutcome
import OIDC
import OpenIDFederation
import OutboundHTTP
import Testing
import _CryptoExtras
@testable import GatewayServer

/// Automatic registration at the authorization endpoint: the engine with the gateway's registrar over in-memory
/// storage, against a federation served over HTTP on 127.0.0.1.
@Suite struct FederationRegistrarTests {
    static let issuer = "https://op.example.it"
    static let mark = "https://www.spid.gov.it/certification/rp/public"

    let federation: LocalFederation
    let ta: LocalFederation.Entity
    let rp: LocalFederation.Entity
    let core = LocalFederation.newKey("rp-core")
    let storage = InMemoryGatewayStorage()
    let clients: OIDCClientDirectory
    let engine: OpenIDProviderEngine

    init() async throws {
        federation = try LocalFederation()
        ta = federation.entity("ta")
        rp = federation.entity("rp")
        let logger = Logger(label: "test")
        clients = OIDCClientDirectory(clientsIn: storage, logger: logger)
        let anchor = FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]), requiredTrustMarks: [Self.mark])
        try await storage.storeRegistration(kind: FederationTrustAnchor.storageKind, id: ta.id, json: JSONEncoder().encode(anchor), now: Date())
        let directory = clients
        let registrar = GatewayFederationRegistrar(storage: storage, anchors: RegistrationDirectory(trustAnchorsIn: storage, logger: logger),
                                                   transport: GuardedHTTPTransport(allowPrivateAddresses: true),
                                                   limits: .init(timeout: 60),   // generous: the whole suite may starve this process for a while
                                                   refusalCache: 30,
                                                   audit: AuditLog(storage: storage), logger: logger) { await directory.remember($0.clientID, $0) }
        let signing = try JWSSigningKey(kid: "k1", algorithm: "RS256", privateKeyPEM: _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
        let keys = try ProviderKeys(signing: ["RS256": signing], published: [try signing.publicJWK()], verification: [try JWSVerificationKey(try signing.publicJWK())])
        engine = OpenIDProviderEngine(provider: ProviderConfiguration(issuer: Self.issuer), store: GatewayOIDCStore(storage: storage, audit: AuditLog(storage: storage)),
                                      clients: { try await directory.snapshot() }, keys: { keys }, federation: registrar)
        publish(redirects: [rp.id + "/cb"], statementLifetime: 3600, at: Self.start)
    }

    /// The clock of every test: statements are issued and requests made at times relative to it, never at the
    /// moment a slow machine happens to reach a line.
    static let start = Date()

    func publish(redirects: [String], statementLifetime: TimeInterval, at time: Date, markIssuer: LocalFederation.Entity? = nil) {
        federation.publishConfiguration(ta, now: time)
        federation.publishConfiguration(rp, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rp, redirectURIs: redirects, core: core),
                                        extra: ["trust_marks": .array([federation.trustMark(Self.mark, for: rp, by: markIssuer ?? ta, now: time)])], now: time)
        federation.publishStatement(by: ta, about: rp, now: time, lifetime: statementLifetime)
    }

    /// A SPID authorization request of the relying party, its request object signed with the RP's core key.
    func parameters(redirect: String, now: Date) throws -> [String: String] {
        let state = String(repeating: "s", count: 32), nonce = String(repeating: "n", count: 32)
        let challenge = Base64URL.encode(Data(SHA256.hash(data: Data("verifier".utf8))))
        let t = Int64(now.timeIntervalSince1970)
        let object: JSONObject = ["iss": .string(rp.id), "aud": .array([.string(Self.issuer)]), "client_id": .string(rp.id), "response_type": .string("code"),
                                  "scope": .string("openid"), "redirect_uri": .string(redirect), "state": .string(state), "nonce": .string(nonce),
                                  "code_challenge": .string(challenge), "code_challenge_method": .string("S256"), "iat": .integer(t), "exp": .integer(t + 60),
                                  "jti": .string(UUID().uuidString), "acr_values": .string("https://www.spid.gov.it/SpidL2")]
        return ["client_id": rp.id, "response_type": "code", "scope": "openid", "redirect_uri": redirect, "request": try core.sign(object, type: "JWT")]
    }

    func authorize(redirect: String, now: Date) async throws -> AuthorizationAnswer {
        try await engine.authorize(try parameters(redirect: redirect, now: now), auditFields: [:], now: now) { _ in
            StartedLogin(id: UUID().uuidString, expiresAt: now + 600)
        }
    }

    func stored() async throws -> ClientRegistration? {
        try await storage.registration(kind: ClientRegistration.storageKind, id: rp.id).map { try JSONDecoder().decode(ClientRegistration.self, from: $0.json) }
    }

    @Test func aRelyingPartyIsRegisteredFromItsChainAndKeptUntilTheChainExpires() async throws {
        let now = Self.start
        publish(redirects: [rp.id + "/cb"], statementLifetime: 120, at: now)
        guard case .loginStarted = try await authorize(redirect: rp.id + "/cb", now: now) else { Issue.record("not started"); return }
        let first = try #require(try await stored())
        #expect(first.federation?.trustAnchor == ta.id && first.federation?.trustMarks == [Self.mark] && first.profile == .spid)
        #expect(abs(first.federation!.expiresAt.timeIntervalSince(now + 120)) < 2)
        let audit = try await storage.auditRecords(since: nil, limit: nil).map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(audit.contains { $0.contains("federation_client_registered") && $0.contains(ta.id) })

        // The RP changes its Entity Configuration: the resolved registration holds until the chain expires.
        publish(redirects: [rp.id + "/new"], statementLifetime: 3600, at: now + 60)
        guard case .loginStarted = try await authorize(redirect: rp.id + "/cb", now: now + 60) else { Issue.record("cached chain not used"); return }
        #expect(try await stored()?.federation?.resolvedAt == first.federation?.resolvedAt)

        // After the chain's expiry the chain is resolved again, and the old redirect URI is no longer registered.
        let later = try await authorize(redirect: rp.id + "/cb", now: now + 121)
        guard case .refused(let error) = later else { Issue.record("expected a refusal, got \(later)"); return }
        #expect(error.reason == "redirect_uri_mismatch" && error.delivery == .page)
        #expect(try await stored()?.redirectURIs == [rp.id + "/new"])
    }

    @Test func anUntrustedChainIsAnErrorPageNeverARedirect() async throws {
        let stranger = federation.entity("stranger")
        let now = Self.start
        publish(redirects: [rp.id + "/cb"], statementLifetime: 3600, at: now, markIssuer: stranger)   // a trust mark from someone the anchor does not list
        let answer = try await authorize(redirect: rp.id + "/cb", now: now)
        guard case .refused(let error) = answer else { Issue.record("expected a refusal, got \(answer)"); return }
        #expect(error.code == .invalidClient && error.reason == "trust_chain_trust_mark" && error.delivery == .page, "\(error)")
        #expect(try await stored() == nil)
        // Refused again at once, from the refusal cache, even after the relying party fixed its mark.
        publish(redirects: [rp.id + "/cb"], statementLifetime: 3600, at: now)
        guard case .refused(let again) = try await authorize(redirect: rp.id + "/cb", now: now + 1) else { Issue.record("not refused"); return }
        #expect(again.reason == "trust_chain_trust_mark")
        let retried = try await authorize(redirect: rp.id + "/cb", now: now + 31)
        guard case .loginStarted = retried else { Issue.record("not retried after the cache: \(retried)"); return }
    }

    @Test func theTokenEndpointNeverResolvesANewEntity() async throws {
        // A client assertion naming an entity that never came through the authorization endpoint: no fetch, invalid_client.
        let t = Int64(Date().timeIntervalSince1970)
        let assertion = try core.sign(["iss": .string(rp.id), "sub": .string(rp.id), "aud": .string(Self.issuer + "/oidc/token"), "iat": .integer(t),
                                       "exp": .integer(t + 60), "jti": .string("j1")], type: "JWT")
        await #expect(throws: OIDCError(.invalidClient, reason: "", "")) {
            _ = try await engine.exchange(["grant_type": "authorization_code", "code": "x", "client_assertion": assertion,
                                           "client_assertion_type": ClientAuthenticator.assertionType], authorization: nil, now: Date())
        }
        #expect(try await stored() == nil)
    }
}
