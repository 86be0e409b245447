import FederationTestSupport
import Foundation
import OIDC
import OpenIDFederation
import OutboundHTTP
import Testing

/// Trust chain resolution against statements served over real HTTP on 127.0.0.1 (one federation per test).
@Suite struct TrustChainResolverTests {
    static let spidPublic = "https://www.spid.gov.it/certification/rp/public"
    let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
    /// A generous fetch timeout: the whole suite may starve this process for a while.
    static let limits = TrustChainResolver.Limits(timeout: 60)

    /// A trust anchor and a relying party directly below it, with a trust mark and the usual SPID policy.
    func basic(_ federation: LocalFederation, rpPolicy: JSONObject? = nil, markLifetime: TimeInterval? = 3600, statementLifetime: TimeInterval = 3600,
               required: [String] = [spidPublic]) -> (ta: LocalFederation.Entity, rp: LocalFederation.Entity, resolver: TrustChainResolver) {
        let ta = federation.entity("ta"), rp = federation.entity("rp")
        federation.publishConfiguration(ta, extra: ["trust_mark_issuers": .object([Self.spidPublic: .array([.string(ta.id)])])])
        federation.publishConfiguration(rp, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rp, redirectURIs: [rp.id + "/callback", rp.id + "/other"]),
                                        extra: ["trust_marks": .array([federation.trustMark(Self.spidPublic, for: rp, by: ta, lifetime: markLifetime)])])
        let policy = rpPolicy ?? ["openid_relying_party": .object(["scope": .object(["superset_of": .array([.string("openid")])]),
                                                                   "grant_types": .object(["subset_of": .array([.string("authorization_code")])])])]
        federation.publishStatement(by: ta, about: rp, policy: policy, lifetime: statementLifetime)
        let anchor = FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]), requiredTrustMarks: required)
        return (ta, rp, TrustChainResolver(anchors: [anchor], transport: transport, limits: Self.limits))
    }

    func refusal(_ resolver: TrustChainResolver, _ id: String) async -> FederationError? {
        do { _ = try await resolver.resolve(id, entityType: "openid_relying_party", now: Date()); return nil } catch let error as FederationError { return error }
        catch { Issue.record("unexpected \(error)"); return nil }
    }

    @Test func aRelyingPartyBelowAPinnedAnchorResolvesWithPoliciesApplied() async throws {
        let federation = try LocalFederation()
        let (ta, rp, resolver) = basic(federation)
        let resolved = try await resolver.resolve(rp.id, entityType: "openid_relying_party", now: Date())
        #expect(resolved.trustAnchor == ta.id)
        #expect(resolved.path == [rp.id, ta.id])
        #expect(resolved.trustMarks == [Self.spidPublic])
        #expect(resolved.metadata["grant_types"] == .array([.string("authorization_code")]))   // subset_of removed refresh_token
        #expect(resolved.metadata["redirect_uris"]?.strings == [rp.id + "/callback", rp.id + "/other"])
        #expect(resolved.statementCount == 3)
        #expect(resolved.expiresAt > Date() + 3000 && resolved.expiresAt <= Date() + 3600)
        let client = try ClientRegistration(federated: resolved, resolvedAt: Date())
        #expect(client.clientID == rp.id && client.profile == .spid && client.authentication == .privateKeyJWT && client.subjectType == .pairwise)
        #expect(client.federation?.trustAnchor == ta.id && client.federation?.organizationName == "RP")
        // Citizens see the client's own name (client_name), not its entity ID.
        #expect(client.displayName == "RP " + rp.path && client.serviceName == "RP " + rp.path)
    }

    @Test func anIntermediateIsFollowedWithinTheLimitAndRefusedBeyondIt() async throws {
        let federation = try LocalFederation()
        let ta = federation.entity("ta"), agg = federation.entity("agg"), rp = federation.entity("rp")
        federation.publishConfiguration(ta)
        federation.publishConfiguration(agg, hints: [ta.id])
        federation.publishConfiguration(rp, hints: [agg.id], metadata: LocalFederation.relyingPartyMetadata(rp, redirectURIs: [rp.id + "/cb"]))
        federation.publishStatement(by: ta, about: agg, policy: ["openid_relying_party": .object(["contacts": .object(["add": .array([.string("ta@example.org")])])])])
        federation.publishStatement(by: agg, about: rp, policy: ["openid_relying_party": .object(["contacts": .object(["add": .array([.string("agg@example.org")])])])])
        let anchor = FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]))
        let resolved = try await TrustChainResolver(anchors: [anchor], transport: transport, limits: Self.limits).resolve(rp.id, entityType: "openid_relying_party", now: Date())
        #expect(resolved.path == [rp.id, agg.id, ta.id])
        #expect(resolved.metadata["contacts"]?.strings.map(Set.init) == ["ta@example.org", "agg@example.org"])
        let strict = TrustChainResolver(anchors: [anchor], transport: transport, limits: .init(maximumIntermediates: 0, timeout: 60))
        #expect(await refusal(strict, rp.id)?.code == .chainTooLong)
        let fewFetches = TrustChainResolver(anchors: [anchor], transport: transport, limits: .init(maximumFetches: 3, timeout: 60))
        #expect(await refusal(fewFetches, rp.id)?.code == .chainTooLong)
    }

    @Test func aChainToAnAnchorThatIsNotPinnedIsRefused() async throws {
        let federation = try LocalFederation()
        let (_, rp, _) = basic(federation)
        let other = federation.entity("other-ta")
        federation.publishConfiguration(other)
        let resolver = TrustChainResolver(anchors: [FederationTrustAnchor(entityID: other.id, jwks: JSONWebKeySet(keys: [other.jwk]))], transport: transport, limits: Self.limits)
        let error = await refusal(resolver, rp.id)
        #expect(error?.code == .noTrustAnchor)
    }

    @Test func statementsSignedByAnImpostorOfThePinnedAnchorAreRefused() async throws {
        let federation = try LocalFederation()
        let (ta, rp, _) = basic(federation)
        let impostor = federation.entity("impostor")
        // The anchor's identifier, but statements signed with a key that is not the pinned one.
        federation.publishConfiguration(ta, signer: impostor.key, keys: [impostor.jwk])
        federation.publishStatement(by: ta, about: rp, signer: impostor.key)
        let resolver = TrustChainResolver(anchors: [FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]))], transport: transport, limits: Self.limits)
        #expect(await refusal(resolver, rp.id)?.code == .badSignature)
    }

    @Test func anExpiredSubordinateStatementIsRefused() async throws {
        let federation = try LocalFederation()
        let (ta, rp, resolver) = basic(federation)
        federation.publishStatement(by: ta, about: rp, now: Date() - 7200, lifetime: 3600)
        let error = await refusal(resolver, rp.id)
        #expect(error?.code == .expired)
    }

    @Test func aStatementAboutAnotherSubjectIsRefused() async throws {
        let federation = try LocalFederation()
        let (ta, rp, resolver) = basic(federation)
        let someoneElse = federation.entity("else")
        // The anchor's statement served for the RP names another subject.
        var claims: JSONObject = ["iss": .string(ta.id), "sub": .string(someoneElse.id), "iat": .integer(Int64(Date().timeIntervalSince1970)),
                                  "exp": .integer(Int64(Date().timeIntervalSince1970) + 3600), "jwks": LocalFederation.keySet([rp.jwk])]
        claims["metadata_policy"] = .object([:])
        federation.write(federation.sign(claims, with: ta.key), to: "ta/fetch/" + rp.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!)
        #expect(await refusal(resolver, rp.id)?.code == .wrongSubject)
    }

    @Test func aRelyingPartyKeyTheSuperiorDoesNotVouchForIsRefused() async throws {
        let federation = try LocalFederation()
        let (ta, rp, resolver) = basic(federation)
        let rogue = federation.entity("rp")   // same identifier, new key: the anchor's statement still names the old one
        federation.publishConfiguration(rogue, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rogue, redirectURIs: [rogue.id + "/evil"]))
        #expect(await refusal(resolver, rp.id)?.code == .badSignature)
    }

    @Test func aPolicyThatRemovesTheRedirectURILeavesItUnregistered() async throws {
        let federation = try LocalFederation()
        let rpID = federation.base + "/rp"
        let policy: JSONObject = ["openid_relying_party": .object(["redirect_uris": .object(["subset_of": .array([.string(rpID + "/callback")])])])]
        let (_, rp, resolver) = basic(federation, rpPolicy: policy)
        let resolved = try await resolver.resolve(rp.id, entityType: "openid_relying_party", now: Date())
        #expect(resolved.metadata["redirect_uris"]?.strings == [rp.id + "/callback"])
        let client = try ClientRegistration(federated: resolved, resolvedAt: Date())
        #expect(!client.redirectURIs.contains(rp.id + "/other"))
        // A policy that leaves no redirect URI at all makes no client.
        let none: JSONObject = ["openid_relying_party": .object(["redirect_uris": .object(["subset_of": .array([.string("https://elsewhere.example/cb")])])])]
        let second = try LocalFederation()
        let (_, rp2, resolver2) = basic(second, rpPolicy: none)
        let emptied = try await resolver2.resolve(rp2.id, entityType: "openid_relying_party", now: Date())
        #expect(throws: FederationError(.unusableMetadata, "")) { try ClientRegistration(federated: emptied, resolvedAt: Date()) }
        withExtendedLifetime(second) {}
    }

    @Test func aMissingOrExpiredOrForeignTrustMarkIsRefused() async throws {
        let federation = try LocalFederation()
        let (_, rp, resolver) = basic(federation, required: [Self.spidPublic, "https://www.spid.gov.it/certification/rp/private"])
        #expect(await refusal(resolver, rp.id)?.code == .trustMark)
        // Alternatives: the public or the private RP mark will do.
        let (_, _, either) = basic(federation, required: ["https://www.spid.gov.it/certification/rp/private|" + Self.spidPublic])
        #expect(try await either.resolve(rp.id, entityType: "openid_relying_party", now: Date()).trustMarks == [Self.spidPublic])
        let expiredFederation = try LocalFederation()
        let (ta, rp2, _) = basic(expiredFederation)
        expiredFederation.publishConfiguration(rp2, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rp2, redirectURIs: [rp2.id + "/cb"]),
                                               extra: ["trust_marks": .array([expiredFederation.trustMark(Self.spidPublic, for: rp2, by: ta, now: Date() - 7200, lifetime: 3600)])])
        let expiredResolver = TrustChainResolver(anchors: [FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]), requiredTrustMarks: [Self.spidPublic])],
                                                 transport: transport, limits: Self.limits)
        let expired = await refusal(expiredResolver, rp2.id)
        #expect(expired?.code == .trustMark && expired?.detail.contains("expired") == true)
        // Issued by someone the anchor does not list.
        let stranger = expiredFederation.entity("stranger")
        expiredFederation.publishConfiguration(rp2, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rp2, redirectURIs: [rp2.id + "/cb"]),
                                               extra: ["trust_marks": .array([expiredFederation.trustMark(Self.spidPublic, for: rp2, by: stranger)])])
        let foreign = await refusal(expiredResolver, rp2.id)
        #expect(foreign?.code == .trustMark && foreign?.detail.contains("does not list") == true)
    }

    @Test func aFetchEndpointThatRedirectsIsNotFollowed() async throws {
        let federation = try LocalFederation()
        let (ta, rp, resolver) = basic(federation)
        // The anchor's configuration names a fetch endpoint that answers 302 to the real one.
        federation.publishConfiguration(ta, metadata: ["federation_entity": .object(["federation_fetch_endpoint": .string(federation.base + "/redirect/ta/fetch")])])
        let error = await refusal(resolver, rp.id)
        #expect(error?.code == .fetchFailed)
    }

    @Test func anEntityThatIsNotAnHTTPSIdentifierIsNotFetched() async throws {
        let resolver = TrustChainResolver(anchors: [FederationTrustAnchor(entityID: "https://ta.example", jwks: JSONWebKeySet(keys: []))], transport: transport, limits: Self.limits)
        for id in ["http://rp.example.org", "https://rp.example.org/?q=1", "rp", "https://rp.example.org/#x"] {
            #expect(await refusal(resolver, id)?.code == .malformedStatement, "\(id)")
        }
    }
}
