import CNSValidation
import Crypto
import Foundation
import GatewayAudit
import GatewayStorage
import ItalianIdentity
import OIDC
import Testing
import _CryptoExtras
@testable import GatewayServer
import LoginOutcome

/// The OIDC token engine in process: its own store over the in-memory storage, a fixed clock, real keys and JWTs.
@Suite struct OpenIDProviderEngineTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let provider = ProviderConfiguration(issuer: "https://op.example.it")
    static let secret = "client-secret-client-secret"
    static let clients: [String: ClientRegistration] = [
        "rp": ClientRegistration(clientID: "rp", profile: .plain, redirectURIs: ["https://rp.example.it/cb"], authentication: .clientSecretBasic,
                                 secretHash: ClientRegistration.hashSecret(secret)),
        "other": ClientRegistration(clientID: "other", profile: .plain, redirectURIs: ["https://other.example.it/cb"], authentication: .clientSecretBasic,
                                    secretHash: ClientRegistration.hashSecret(secret)),
    ]
    static let keys: ProviderKeys = {
        let signing = try! JWSSigningKey(kid: "k1", algorithm: "RS256", privateKeyPEM: _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
        let jwk = try! signing.publicJWK()
        return try! ProviderKeys(signing: ["RS256": signing], published: [jwk], verification: [try! JWSVerificationKey(jwk)])
    }()
    static let identity: AuthenticatedCitizen = {
        let citizen = try! CNSSubjectMapper(registry: try? BelfioreRegistry.bundled())
            .identity(from: [SubjectAttribute(oid: "2.5.4.3", value: "RCCMNL83S18D969H/6120016461039008.abc"),
                             SubjectAttribute(oid: "2.5.4.42", value: "MANUEL"), SubjectAttribute(oid: "2.5.4.4", value: "RICCARDI")],
                      referenceDate: CalendarDate(year: 2026, month: 12, day: 1)!).get()
        return AuthenticatedCitizen(citizen)
    }()
    static let verifier = String(repeating: "v", count: 43)

    let storage = InMemoryGatewayStorage()
    var engine: OpenIDProviderEngine {
        OpenIDProviderEngine(provider: Self.provider, store: GatewayOIDCStore(storage: storage, audit: AuditLog(storage: storage)),
                    clients: { Self.clients }, keys: { Self.keys })
    }

    func basic(_ client: String) -> String { "Basic " + Data("\(client):\(Self.secret)".utf8).base64EncodedString() }

    /// A consented login of `scopes` for `rp`, turned into a code.
    func code(scopes: [String] = ["openid", "profile"], claims: [String] = ["given_name", "family_name", "place_of_birth"]) async throws -> String {
        let request = ValidatedAuthorization(clientID: "rp", redirectURI: "https://rp.example.it/cb", state: "s", nonce: "n", scopes: scopes,
                                             codeChallenge: Base64URL.encode(Data(SHA256.hash(data: Data(Self.verifier.utf8)))), level: .spidL2,
                                             forceFresh: false, maxAge: nil, userinfoClaims: claims, idTokenClaims: [], uiLocale: nil,
                                             requestObjectID: nil, requestObjectExpiry: nil)
        let login = AuthenticatedLogin(citizen: Self.identity, level: .spidL2, authenticatedAt: Self.now - 20)
        return try await engine.issueCode(for: request, client: Self.clients["rp"]!, login: login,
                                          subjects: SubjectIdentifiers(secret: Data(repeating: 7, count: 32)), now: Self.now).code
    }

    func exchange(_ code: String, client: String = "rp", at time: Date = now) async throws -> TokenResponse {
        try await engine.exchange(["grant_type": "authorization_code", "code": code, "redirect_uri": "https://rp.example.it/cb",
                                   "code_verifier": Self.verifier], authorization: basic(client), now: time)
    }

    func refusal(_ body: () async throws -> some Any) async -> String? {
        do { _ = try await body(); return nil } catch let error as OIDCError { return error.reason } catch { return "\(error)" }
    }

    @Test("a code becomes tokens once: ID token and userinfo carry exactly the consented claims; a replay revokes what the code gave")
    func codeExchange() async throws {
        let code = try await code()
        let answer = try await exchange(code)
        let idToken = try JWS.verify(answer.body["id_token"]!.string!, keys: Self.keys.verification, allowed: [.rs256], purpose: "test")
        #expect(idToken.claims["aud"]?.string == "rp" && idToken.claims["nonce"]?.string == "n" && idToken.claims["acr"]?.string == SpidLevel.spidL2.uri)
        #expect(idToken.claims["auth_time"] == .integer(Int64(Self.now.timeIntervalSince1970) - 20))
        #expect(answer.body["refresh_token"] == nil)   // no offline_access
        let access = answer.body["access_token"]!.string!
        guard case .json(let claims) = try await engine.userinfo(accessToken: access, now: Self.now + 1) else { Issue.record("plain client got a JWT"); return }
        #expect(claims["given_name"] == .string("Manuel") && claims["family_name"] == .string("Riccardi"))
        #expect(claims["place_of_birth"] == .object(["locality": .string("D969"), "region": .string("GE")]))
        #expect(claims[IdentityClaims.fiscalNumber] == nil && claims["birthdate"] == nil)   // not consented, not kept
        // Replay: refused, and the access token of the first exchange stops working.
        #expect(await refusal { try await exchange(code, at: Self.now + 2) } == "code_replayed")
        #expect(await refusal { try await engine.userinfo(accessToken: access, now: Self.now + 3) } == "grant_revoked")
        let audit = try await storage.auditRecords(since: nil, limit: nil).map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(audit.filter { $0.contains("\"code_issued\"") }.count == 1 && audit.filter { $0.contains("\"tokens_issued\"") }.count == 1)
        #expect(audit.contains { $0.contains("\"grant_revoked\"") && $0.contains("code_replayed") })
    }

    @Test("a code is spent on first use even when the rest is wrong, is bound to its client, and expires on the fixed clock")
    func codeRules() async throws {
        #expect(await refusal { try await exchange(try await code(), client: "other") } == "code_client")
        // A refusal after authentication names the client, for the audit log (Basic auth sends no client_id in the form).
        let foreign = try await code()
        await #expect { _ = try await exchange(foreign, client: "other") } throws: { ($0 as? OIDCError)?.clientID == "other" }
        #expect(await refusal { try await exchange(try await code(), at: Self.now + Self.provider.authorizationCodeLifetime) } == "unknown_code")
        let wrongVerifier = try await code()
        #expect(await refusal {
            try await engine.exchange(["grant_type": "authorization_code", "code": wrongVerifier, "redirect_uri": "https://rp.example.it/cb",
                                       "code_verifier": String(repeating: "w", count: 43)], authorization: basic("rp"), now: Self.now)
        } == "pkce_mismatch")
        #expect(await refusal { try await exchange(wrongVerifier) } == "code_replayed")
        #expect(await refusal { try await engine.exchange(["grant_type": "password"], authorization: basic("rp"), now: Self.now) } == "grant_type")
        #expect(await refusal { try await engine.exchange([:], authorization: basic("rp"), now: Self.now) } == "no_grant_type")
        // The handler list decides which grant types exist.
        let codeOnly = OpenIDProviderEngine(provider: Self.provider, store: engine.store, clients: { Self.clients }, keys: { Self.keys },
                                   handlers: [AuthorizationCodeGrantHandler()])
        #expect(await refusal { try await codeOnly.exchange(["grant_type": "refresh_token", "refresh_token": "x"], authorization: basic("rp"), now: Self.now) }
                == "grant_type")
    }

    @Test("refresh tokens rotate; a spent one used again revokes the grant; a refresh cannot widen the scope")
    func refreshRotation() async throws {
        let first = try await exchange(try await code(scopes: ["openid", "profile", "offline_access"]))
        let r1 = try #require(first.body["refresh_token"]?.string)
        func refresh(_ token: String, scope: String? = nil, at time: Date) async throws -> TokenResponse {
            var form = ["grant_type": "refresh_token", "refresh_token": token]
            form["scope"] = scope
            return try await engine.exchange(form, authorization: basic("rp"), now: time)
        }
        #expect(await refusal { try await refresh(r1, scope: "openid email", at: Self.now + 5) } == "refresh_scope")
        // That refusal spent r1: it was the token of a failed request, and using it again is a replay.
        #expect(await refusal { try await refresh(r1, at: Self.now + 6) } == "refresh_token_replayed")
        let again = try await exchange(try await code(scopes: ["openid", "offline_access"]))
        let r2 = try #require(again.body["refresh_token"]?.string)
        let rotated = try await refresh(r2, at: Self.now + 10)
        let r3 = try #require(rotated.body["refresh_token"]?.string)
        #expect(r3 != r2)
        #expect(await refusal { try await refresh(r2, at: Self.now + 11) } == "refresh_token_replayed")
        #expect(await refusal { try await refresh(r3, at: Self.now + 12) } == "grant_revoked")   // the whole grant ended
    }

    @Test("revocation and introspection answer only the client the token was issued to")
    func revocationAndIntrospection() async throws {
        let answer = try await exchange(try await code(scopes: ["openid", "offline_access"]))
        let access = answer.body["access_token"]!.string!, refresh = answer.body["refresh_token"]!.string!
        let active = try await engine.introspection(["token": access], authorization: basic("rp"), now: Self.now + 1)
        #expect(active["active"] == .bool(true) && active["token_type"] == .string("Bearer") && active["acr"] == .string(SpidLevel.spidL2.uri))
        #expect(try await engine.introspection(["token": refresh], authorization: basic("rp"), now: Self.now + 1)["token_type"] == .string("refresh_token"))
        #expect(try await engine.introspection(["token": access], authorization: basic("other"), now: Self.now + 1) == ["active": .bool(false)])
        #expect(await refusal { try await engine.revocation(["token": refresh], authorization: basic("other"), now: Self.now + 2) } == "revoke_other_client")
        try await engine.revocation(["token": "unknown"], authorization: basic("rp"), now: Self.now + 2)   // not an error (RFC 7009)
        try await engine.revocation(["token": refresh], authorization: basic("rp"), now: Self.now + 3)
        #expect(try await engine.introspection(["token": access], authorization: basic("rp"), now: Self.now + 4) == ["active": .bool(false)])
        #expect(await refusal { try await engine.userinfo(accessToken: access, now: Self.now + 4) } == "grant_revoked")
    }
}
