import Foundation
import LoginOutcome
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity

/// The SPID error table (`messaggi-errore`), row by row: for each request anomaly the exact status, sub-status and
/// `StatusMessage`, whether it is a Response to the SP's ACS (which one) or a page for the citizen, and the Response's
/// `InResponseTo` and `Destination` — over both bindings. docs/spid-errors.md lists each row with its test here.
@Suite struct SPIDErrorTableTests {
    let sp: TestServiceProvider
    init() throws { sp = try TestServiceProvider() }

    /// One row case: what the request changes, and what the table requires.
    struct Case: Sendable, CustomTestStringConvertible {
        let code: Int
        let what: String
        var attributes: [String: String?] = [:]
        var body: String? = nil
        var status = SAMLNames.Status.requester
        var subStatus: String? = nil
        /// The ACS the Response goes to.
        var acs = TestServiceProvider.acs0
        var testDescription: String { String(format: "nr%02d: ", code) + what }
    }

    static let transient = #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/>"#
    static func context(_ comparison: String?, _ refs: [String]) -> String {
        "<samlp:RequestedAuthnContext\(comparison.map { " Comparison=\"\($0)\"" } ?? "")>"
            + refs.map { "<saml:AuthnContextClassRef>\($0)</saml:AuthnContextClassRef>" }.joined() + "</samlp:RequestedAuthnContext>"
    }
    static let l2 = context("minimum", ["https://www.spid.gov.it/SpidL2"])
    static let unsupported = SAMLNames.Status.requestUnsupported

    static let spidRows: [Case] = [
        Case(code: 8, what: "ForceAuthn is not an xs:boolean", attributes: ["ForceAuthn": "yes"]),
        Case(code: 9, what: "Version is not 2.0", attributes: ["Version": "1.1"], status: SAMLNames.Status.versionMismatch),
        Case(code: 11, what: "ID is not an xs:ID", attributes: ["ID": "1-starts-with-a-digit"]),
        Case(code: 11, what: "ID is missing", attributes: ["ID": nil]),
        Case(code: 12, what: "no RequestedAuthnContext", body: transient, subStatus: SAMLNames.Status.noAuthnContext),
        Case(code: 12, what: "RequestedAuthnContext without Comparison", body: transient + context(nil, ["https://www.spid.gov.it/SpidL2"]),
             subStatus: SAMLNames.Status.noAuthnContext),
        Case(code: 12, what: "a Comparison SAML does not define", body: transient + context("atleast", ["https://www.spid.gov.it/SpidL2"]),
             subStatus: SAMLNames.Status.noAuthnContext),
        Case(code: 12, what: "two AuthnContextClassRefs", body: transient + context("exact", ["https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2"]),
             subStatus: SAMLNames.Status.noAuthnContext),
        Case(code: 12, what: "a context that is not a SPID level", body: transient + context("exact", ["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"]),
             subStatus: SAMLNames.Status.noAuthnContext),
        Case(code: 13, what: "IssueInstant too old", attributes: ["IssueInstant": "2020-01-01T00:00:00Z"], subStatus: SAMLNames.Status.requestDenied),
        Case(code: 13, what: "IssueInstant in the future", attributes: ["IssueInstant": "2999-01-01T00:00:00Z"], subStatus: SAMLNames.Status.requestDenied),
        Case(code: 13, what: "IssueInstant missing", attributes: ["IssueInstant": nil], subStatus: SAMLNames.Status.requestDenied),
        Case(code: 13, what: "IssueInstant not a UTC dateTime", attributes: ["IssueInstant": "2026-12-03T10:00:00+01:00"], subStatus: SAMLNames.Status.requestDenied),
        Case(code: 14, what: "Destination elsewhere", attributes: ["Destination": "https://other.example.it/sso"], subStatus: unsupported),
        Case(code: 14, what: "Destination missing", attributes: ["Destination": nil], subStatus: unsupported),
        Case(code: 15, what: "IsPassive true", attributes: ["IsPassive": "true"], subStatus: SAMLNames.Status.noPassive),
        Case(code: 16, what: "ACS index not in the metadata", attributes: ["AssertionConsumerServiceIndex": "7"], subStatus: unsupported),
        Case(code: 16, what: "ACS URL not in the metadata",
             attributes: ["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": "https://evil.example.org/acs", "ProtocolBinding": SAMLNames.postBinding],
             subStatus: unsupported),
        Case(code: 16, what: "ACS index and URL both", attributes: ["AssertionConsumerServiceURL": TestServiceProvider.acs1], subStatus: unsupported),
        Case(code: 16, what: "ACS index with ProtocolBinding", attributes: ["ProtocolBinding": SAMLNames.postBinding], subStatus: unsupported),
        Case(code: 16, what: "neither ACS index nor URL", attributes: ["AssertionConsumerServiceIndex": nil], subStatus: unsupported),
        Case(code: 16, what: "ACS URL without ProtocolBinding",
             attributes: ["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": TestServiceProvider.acs1], subStatus: unsupported),
        Case(code: 16, what: "ACS URL with the Redirect binding",
             attributes: ["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": TestServiceProvider.acs1, "ProtocolBinding": SAMLNames.redirectBinding],
             subStatus: unsupported),
        Case(code: 17, what: "no NameIDPolicy", body: l2, subStatus: unsupported, acs: TestServiceProvider.acs0),
        Case(code: 17, what: "NameIDPolicy Format persistent",
             body: #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>"# + l2, subStatus: unsupported),
        Case(code: 17, what: "NameIDPolicy without Format", body: "<samlp:NameIDPolicy/>" + l2, subStatus: unsupported),
        Case(code: 18, what: "AttributeConsumingServiceIndex not in the metadata", attributes: ["AttributeConsumingServiceIndex": "9"], subStatus: unsupported),
        Case(code: 18, what: "AttributeConsumingServiceIndex negative", attributes: ["AttributeConsumingServiceIndex": "-1"], subStatus: unsupported),
        Case(code: 18, what: "AttributeConsumingServiceIndex without a value", attributes: ["AttributeConsumingServiceIndex": ""], subStatus: unsupported),
        Case(code: 8, what: "a Purpose SPID does not define", body: purpose("X") + transient + l2),
        Case(code: 30, what: "a legal person's identity asked for (Purpose PG)", body: purpose("PG") + transient + l2,
             status: SAMLNames.Status.responder, subStatus: SAMLNames.Status.authnFailed),
        Case(code: 30, what: "a professional identity asked for (Purpose PF)", body: purpose("PF") + transient + l2,
             status: SAMLNames.Status.responder, subStatus: SAMLNames.Status.authnFailed),
    ]

    static func purpose(_ value: String) -> String {
        #"<samlp:Extensions><spid:Purpose xmlns:spid="https://spid.gov.it/saml-extensions">"# + value + "</spid:Purpose></samlp:Extensions>"
    }

    /// The Response the gateway would post for `error`, parsed: its status tree, InResponseTo and Destination.
    func response(_ error: SAMLRequestError) throws -> (status: String?, sub: String?, message: String?, inResponseTo: String?, destination: String?) {
        guard case .response(let destination) = error.delivery else { throw XMLSecurityError(.malformed, "no Response for \(error)") }
        let key = try XMLSigningKey(privateKeyPEM: sp.key.pemPrivateKey, certificatePEM: sp.certificate.pem)
        let xml = try ResponseBuilder(idp: IdP.config, key: key, makeID: { "_r" + UUID().uuidString }).failure(error, to: destination, now: Date())
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        _ = try XMLSignatureVerifier.verify(document.root, certificate: Array(sp.certificate.pem.utf8))
        let status = document.root.child("Status", namespace: SAMLNames.protocolNS)
        let code = status?.child("StatusCode", namespace: SAMLNames.protocolNS)
        #expect(code?.children("StatusCode", namespace: SAMLNames.protocolNS).count ?? 0 <= 1)
        return (code?.attribute("Value"), code?.child("StatusCode", namespace: SAMLNames.protocolNS)?.attribute("Value"),
                status?.child("StatusMessage", namespace: SAMLNames.protocolNS)?.text, document.root.attribute("InResponseTo"),
                document.root.attribute("Destination"))
    }

    func messages(_ xml: String) throws -> [IncomingMessage] {
        [try sp.post(xml), try IncomingMessage.redirect(rawQuery: sp.redirectQuery(xml))]
    }

    @Test("SPID SPs: each request anomaly (nr08–nr18, and nr30 for a Purpose a card cannot meet) is a signed Response to the SP with the table's status, sub-status and message",
          arguments: spidRows)
    func requestAnomaly(_ row: Case) throws {
        let validator = try IdP.validator([sp])
        let xml = TestServiceProvider.request(issuer: sp.entityID, attributes: row.attributes, body: row.body)
        // A request without an ID has nothing an enveloped signature can reference: only the Redirect binding carries it.
        let noID = row.attributes.keys.contains("ID") && row.attributes["ID"]! == nil
        for message in noID ? [try IncomingMessage.redirect(rawQuery: sp.redirectQuery(xml))] : try messages(xml) {
            guard let error = throwing(validator, message) else { Issue.record("accepted: \(row.what) (\(message.binding))"); continue }
            #expect(error.spidCode == row.code, "\(message.binding): \(error)")
            let r = try response(error)
            #expect(r.status == row.status && r.sub == row.subStatus, "\(message.binding): \(r)")
            #expect(r.message == String(format: "ErrorCode nr%02d", row.code))
            #expect(r.destination == row.acs, "\(message.binding): \(row.what) goes to \(r.destination ?? "-")")
            let id: String? = row.attributes["ID"] ?? "_a1b2c3"
            let expected: String? = id?.first == "_" ? id : nil   // no InResponseTo when the ID is missing or not an xs:ID
            #expect(r.inResponseTo == expected, "InResponseTo \(r.inResponseTo ?? "none") for ID \(id ?? "none")")
            guard case .response(let destination) = error.delivery else { continue }
            #expect(destination.relayState == "rs1" && destination.serviceProvider == sp.entityID)
        }
    }

    @Test("what the table lets through for SPID SPs: IsPassive false, AllowCreate of any value, Destination = the entityID, Purpose P")
    func tableLetsThrough() throws {
        let validator = try IdP.validator([sp])
        for (attributes, body) in [
            (["IsPassive": "false"], nil),
            ([:], #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/>"# + Self.l2),
            ([:], #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="false"/>"# + Self.l2),
            (["Destination": IdP.config.entityID], nil),
            (["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": TestServiceProvider.acs1, "ProtocolBinding": SAMLNames.postBinding], nil),
            ([:], Self.purpose("P") + Self.transient + Self.l2),
        ] as [([String: String?], String?)] {
            for message in try messages(TestServiceProvider.request(issuer: sp.entityID, attributes: attributes, body: body)) {
                #expect(throws: Never.self, "\(attributes) \(body ?? "")") { _ = try validator.validate(message, now: Date()) }
            }
        }
    }

    @Test("DOMAIN.md §3.1: Subject, Conditions and Scoping are ignored; SpidL2 and above are always a fresh authentication, ForceAuthn or not")
    func ignoredAndForced() throws {
        let validator = try IdP.validator([sp])
        let extras = #"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" NameQualifier="x">someone</saml:NameID></saml:Subject>"#
            + Self.transient + #"<saml:Conditions NotBefore="2020-01-01T00:00:00Z" NotOnOrAfter="2020-01-01T00:01:00Z"/>"# + Self.l2
            + #"<samlp:Scoping ProxyCount="0"><samlp:RequesterID>https://elsewhere.example.it</samlp:RequesterID></samlp:Scoping>"#
        for message in try messages(TestServiceProvider.request(issuer: sp.entityID, attributes: ["ForceAuthn": nil], body: extras)) {
            let validated = try validator.validate(message, now: Date())
            #expect(validated.forceAuthn && validated.level == .spidL2 && validated.destination.assertionConsumerServiceURL == TestServiceProvider.acs0)
        }
        let l1 = Self.transient + Self.context("minimum", ["https://www.spid.gov.it/SpidL1"])
        let single = try validator.validate(try sp.post(TestServiceProvider.request(issuer: sp.entityID, attributes: ["ForceAuthn": nil], body: l1)), now: Date())
        // SpidL1 asked of an SP registered with the default minimum (SpidL2): raised to it, and so fresh too.
        #expect(single.level == .spidL2 && single.forceAuthn)
    }

    @Test("saml2 SPs keep SAML's defaults: no Comparison means exact, no ACS means the default one, a URL needs no ProtocolBinding")
    func standardDefaults() throws {
        let validator = try IdP.validator([sp], profile: .saml2)
        let noComparison = try validator.validate(sp.post(TestServiceProvider.request(
            issuer: sp.entityID, body: Self.transient + Self.context(nil, ["https://www.spid.gov.it/SpidL2"]))), now: Date())
        #expect(noComparison.comparison == .exact && noComparison.level == .spidL2)
        let noACS = try validator.validate(sp.post(TestServiceProvider.request(issuer: sp.entityID, attributes: ["AssertionConsumerServiceIndex": nil])), now: Date())
        #expect(noACS.destination.assertionConsumerServiceURL == TestServiceProvider.acs0)
        let urlOnly = try validator.validate(sp.post(TestServiceProvider.request(
            issuer: sp.entityID, attributes: ["AssertionConsumerServiceIndex": nil, "AssertionConsumerServiceURL": TestServiceProvider.acs1])), now: Date())
        #expect(urlOnly.destination.assertionConsumerServiceURL == TestServiceProvider.acs1)
        // The table's statuses hold for saml2 SPs too where SAML defines none of its own; nr17 keeps SAML's InvalidNameIDPolicy.
        let persistent = try #require(throwing(validator, sp.post(TestServiceProvider.request(
            issuer: sp.entityID, body: #"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>"#))))
        #expect(persistent.spidCode == 17 && persistent.subStatus == SAMLNames.Status.invalidNameIDPolicy)
        let both = try #require(throwing(validator, sp.post(TestServiceProvider.request(issuer: sp.entityID, attributes: ["AssertionConsumerServiceURL": TestServiceProvider.acs1]))))
        #expect(both.spidCode == 16 && both.subStatus == Self.unsupported)
    }

    func throwing(_ validator: AuthnRequestValidator, _ message: IncomingMessage) -> SAMLRequestError? {
        do { _ = try validator.validate(message, now: Date()); return nil } catch { return error }
    }

    @Test("pages, not Responses: nr04 unreadable binding, nr05 Redirect signature, nr06 Redirect parameters over POST, nr07 POST signature, nr10 Issuer")
    func pages() throws {
        let validator = try IdP.validator([sp])
        let other = try TestServiceProvider(entityID: "https://other.example.it/sp")
        let xml = TestServiceProvider.request(issuer: sp.entityID)
        var cases: [(Int, SAMLRequestError?)] = []
        cases.append((4, refusal { () throws(SAMLRequestError) in try IncomingMessage.redirect(rawQuery: "SAMLRequest=%%%") }))
        cases.append((4, refusal { () throws(SAMLRequestError) in try IncomingMessage.post(form: ["RelayState": "x"]) }))
        cases.append((5, throwing(validator, try IncomingMessage.redirect(rawQuery: sp.redirectQuery(xml, signer: other.key)))))
        let query = try sp.redirectQuery(xml)
        let form = Dictionary(uniqueKeysWithValues: query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts[1].removingPercentEncoding!)
        })
        cases.append((6, refusal { () throws(SAMLRequestError) in try IncomingMessage.post(form: form) }))
        cases.append((6, refusal { () throws(SAMLRequestError) in try IncomingMessage.post(form: [:], rawQuery: query) }))
        cases.append((7, throwing(validator, try sp.post(xml, signWith: other.signingKey))))
        cases.append((10, throwing(validator, try sp.post(TestServiceProvider.request(issuer: "https://unknown.example.it")))))
        let noFormat = xml.replacingOccurrences(of: #" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity""#, with: "")
        cases.append((10, throwing(validator, try sp.post(noFormat))))
        let noQualifier = xml.replacingOccurrences(of: #"NameQualifier="\#(sp.entityID)" "#, with: "")
        cases.append((10, throwing(validator, try sp.post(noQualifier))))
        let otherFormat = xml.replacingOccurrences(of: "nameid-format:entity", with: "nameid-format:persistent")
        cases.append((10, throwing(try IdP.validator([sp], profile: .saml2), try sp.post(otherFormat))))
        for (index, (code, error)) in cases.enumerated() {
            let error = try #require(error, "case \(index): nr\(code) not refused")
            #expect(error.spidCode == code && error.delivery == .page, "case \(index): \(error)")
        }
        // A saml2 SP's Issuer may leave Format and NameQualifier out.
        #expect(throws: Never.self) { _ = try IdP.validator([sp], profile: .saml2).validate(try sp.post(noFormat.replacingOccurrences(of: #"NameQualifier="\#(sp.entityID)" "#, with: "")), now: Date()) }
    }

    @Test("the user rows (nr20–nr25) by how a login ends; nr19 never (the card counts PIN attempts)", arguments: [
        (LoginEnding.revoked, 23), (.refused("untrusted"), 20), (.refused("expired"), 20), (.levelTooLow, 20), (.timedOut, 21), (.denied, 22), (.abandoned, 25),
    ] as [(LoginEnding, Int)])
    func userRows(_ ending: LoginEnding, _ code: Int) {
        let row = SPIDErrorTable.userError(ending)
        #expect(row.code == code && row.subStatus == SAMLNames.Status.authnFailed && row.statusMessage == String(format: "ErrorCode nr%02d", code))
    }
}

/// The refusal a binding decoder throws, or nil when it reads the message.
func refusal(_ decode: () throws(SAMLRequestError) -> IncomingMessage) -> SAMLRequestError? {
    do { _ = try decode(); return nil } catch { return error }
}
