import CNSValidation
import Foundation
import GatewayAudit
import GatewayLogin
import GatewayStorage
import LoginOutcome
import OIDC
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity
@testable import GatewayServer

/// The SAML single-logout engine in process: its store and the logout coordinator over the in-memory storage, service
/// providers made at test time, signed messages both ways, and an OIDC participant told over its back channel.
@Suite struct SingleLogoutEngineTests {
    let now = Date()
    let storage = InMemoryGatewayStorage()
    let requester: TestServiceProvider, other: TestServiceProvider
    let told = Told()

    /// What the back channel was asked to deliver.
    actor Told {
        var posts: [(url: String, form: String)] = []
        func record(_ url: String, _ form: String) { posts.append((url, form)) }
    }

    static let citizen = CitizenRecord(fiscalNumber: "TINIT-RCCMNL83S18D969H", codiceFiscale: "RCCMNL83S18D969H", name: "MANUEL", familyName: "RICCARDI",
                                       dateOfBirth: "1983-11-18", gender: "M", birthPlace: "D969", birthPlaceName: "GENOVA", birthProvince: "GE", cardID: nil)

    init() throws {
        requester = try TestServiceProvider(entityID: "https://a.example.it/sp")
        other = try TestServiceProvider(entityID: "https://b.example.it/sp")
    }

    func engine(otherReachable: Bool = true) async throws -> IdentityProviderEngine {
        var directory: [String: ServiceProvider] = [:]
        for sp in [requester, other] {
            let registration = sp.registration()
            directory[sp.entityID] = (registration, try ServiceProviderMetadata.parse(Array(registration.metadataXML.utf8)))
        }
        let frozen = directory
        let key = requester.signingKey   // any RSA key signs the gateway's messages here; the services check nothing in process
        let rp = ClientRegistration(clientID: "rp", profile: .plain, redirectURIs: ["https://rp.example.it/cb"], authentication: .clientSecretBasic,
                                    secretHash: ClientRegistration.hashSecret("secret-secret-secret"), backchannelLogoutURI: "https://rp.example.it/logout")
        let keys = OpenIDProviderEngineTests.keys, told = told
        let store = GatewayOIDCStore(storage: storage, audit: AuditLog(storage: storage))
        let sender = BackChannelLogoutSender(provider: OpenIDProviderEngineTests.provider, clients: { ["rp": rp] }, keys: { keys },
                                             subjects: { SubjectIdentifiers(secret: Data(repeating: 1, count: 32)) }, store: store) { url, form, _ in
            await told.record(url, form)
        }
        // A session an SpidL1 login opened, in which both services and the OIDC client took part.
        try await storage.createSession(SessionRecord(id: "s1", certificateFingerprint: "f", level: "SpidL1", citizen: Self.citizen,
                                                      authenticatedAt: now - 60, expiresAt: now + 1800,
                                                      participants: [requester.entityID, other.entityID, "rp"]))
        if otherReachable {
            try await storage.recordSAMLNameID(SAMLNameIDRecord(sessionID: "s1", serviceProvider: other.entityID, nameID: "_nameid-b", expiresAt: now + 1800))
        }
        return IdentityProviderEngine(idp: IdP.config, store: GatewaySAMLStore(storage: storage, audit: AuditLog(storage: storage)),
                                      serviceProviders: { frozen }, signingKey: { key },
                                      sessions: SessionEnding(coordinator: LogoutCoordinator(storage: storage, backChannel: sender)))
    }

    func logoutRequest(id: String = "_lr1") -> String {
        """
        <samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="\(id)" \
        Version="2.0" IssueInstant="\(SAMLTime.format(now))" Destination="\(IdP.config.singleLogoutURL)">\
        <saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">\(requester.entityID)</saml:Issuer>\
        <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_nameid-a</saml:NameID>\
        <samlp:SessionIndex>s1</samlp:SessionIndex></samlp:LogoutRequest>
        """
    }

    func logoutResponse(to requestID: String) -> String {
        """
        <samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp" \
        Version="2.0" IssueInstant="\(SAMLTime.format(now))" Destination="\(IdP.config.singleLogoutURL)" InResponseTo="\(requestID)">\
        <saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">\(other.entityID)</saml:Issuer>\
        <samlp:Status><samlp:StatusCode Value="\(SAMLNames.Status.success)"/></samlp:Status></samlp:LogoutResponse>
        """
    }

    /// The posted message, parsed: its root, and the values a test compares.
    func posted(_ answer: SAMLAnswer) throws -> (message: PostedMessage, root: String, status: String?, subStatus: String?, id: String?) {
        guard case .post(let message, _) = answer else { Issue.record("expected a posted message, got \(answer)"); throw CancellationError() }
        let document = try ParsedXML(Array(message.xml.utf8), maximumSize: 1 << 20)
        let status = document.root.child("Status", namespace: SAMLNames.protocolNS)?.child("StatusCode", namespace: SAMLNames.protocolNS)
        return (message, document.root.localName, status?.attribute("Value"), status?.child("StatusCode", namespace: SAMLNames.protocolNS)?.attribute("Value"),
                document.root.attribute("ID"))
    }

    @Test("a LogoutRequest ends the session: the OIDC client is told over its back channel, the other service in turn, then the requester gets Success")
    func propagation() async throws {
        let engine = try await engine()
        let first = try posted(try await engine.singleLogout(requester.post(logoutRequest()), auditFields: [:], now: now))
        #expect(first.root == "LogoutRequest" && first.message.parameter == "SAMLRequest")
        #expect(first.message.destination.assertionConsumerServiceURL == "https://sp.example.it/slo" && first.message.destination.relayState != nil)
        #expect(first.message.xml.contains("_nameid-b"))   // the NameID that service knows the citizen by
        #expect(try await storage.session(id: "s1") == nil)
        let posts = await told.posts
        #expect(posts.count == 1 && posts.first?.url == "https://rp.example.it/logout" && posts.first?.form.hasPrefix("logout_token=") == true)
        // The other service answers; the requester gets the final LogoutResponse, InResponseTo its request.
        let answer = try other.post(logoutResponse(to: first.id!), relayState: first.message.destination.relayState, parameter: "SAMLResponse")
        let final = try posted(try await engine.singleLogout(answer, auditFields: [:], now: now))
        #expect(final.root == "LogoutResponse" && final.status == SAMLNames.Status.success && final.subStatus == nil)
        #expect(final.message.destination.serviceProvider == requester.entityID && final.message.destination.inResponseTo == "_lr1")
        // The state was taken: the same answer again answers no logout in progress.
        guard case .refused(let replayed) = try await engine.singleLogout(answer, auditFields: [:], now: now) else { Issue.record("a replayed answer went on"); return }
        #expect(replayed.reason == "logout_state")
    }

    @Test("a service that cannot be told makes it PartialLogout; a replayed LogoutRequest is refused; a foreign session is not ended")
    func partialAndReplay() async throws {
        let engine = try await engine(otherReachable: false)
        let final = try posted(try await engine.singleLogout(requester.post(logoutRequest()), auditFields: [:], now: now))
        #expect(final.root == "LogoutResponse" && final.status == SAMLNames.Status.requester && final.subStatus == SAMLNames.Status.partialLogout)
        guard case .refused(let replay) = try await engine.singleLogout(requester.post(logoutRequest()), auditFields: [:], now: now) else {
            Issue.record("a replayed LogoutRequest was answered"); return
        }
        #expect(replay.spidCode == 11 && replay.reason == "replay")
        // A session the requester never took part in stays.
        try await storage.createSession(SessionRecord(id: "s2", certificateFingerprint: "f", level: "SpidL1", citizen: Self.citizen, authenticatedAt: now,
                                                      expiresAt: now + 60, participants: [other.entityID]))
        let foreign = logoutRequest(id: "_lr2").replacingOccurrences(of: "<samlp:SessionIndex>s1", with: "<samlp:SessionIndex>s2")
        let answer = try posted(try await engine.singleLogout(requester.post(foreign), auditFields: [:], now: now))
        #expect(answer.subStatus == SAMLNames.Status.partialLogout)
        #expect(try await storage.session(id: "s2") != nil)
        let audit = try await storage.auditRecords(since: nil, limit: nil).map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(audit.contains { $0.contains("logout_unreachable") } && audit.contains { $0.contains("logout_partial") })
    }
}
