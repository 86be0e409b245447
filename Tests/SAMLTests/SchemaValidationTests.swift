import CNSTestSupport
import Foundation
import ItalianIdentity
import LoginOutcome
import SAML
import SAMLTestSupport
import Testing
import XMLSecurity

/// The gateway's SAML messages against the SAML 2.0 XSDs that PyPI's spid-sp-test ships (used from the installed
/// package; scripts/install-deps.sh installs it in .build/spid-sp-test-venv), with `xmllint --schema`, and against the
/// rules AgID's IdP checker applies to an identity provider's metadata and Responses.
@Suite struct SchemaValidationTests {
    /// The XSD folder: $CNSGW_SAML_XSD_DIR, else spid_sp_test/xsd in the virtualenv the test command makes.
    static var schemas: String? {
        if let dir = ProcessInfo.processInfo.environment["CNSGW_SAML_XSD_DIR"] { return dir }
        let lib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/spid-sp-test-venv/lib").path
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return pythons.map { "\(lib)/\($0)/site-packages/spid_sp_test/xsd" }.first { FileManager.default.fileExists(atPath: $0 + "/saml-schema-protocol-2.0.xsd") }
    }

    static let now = Date()
    static let golden = ResponseGoldenTests()

    /// `xmllint --noout --nonet --schema` on `xml`: nil when it validates, else what xmllint said.
    func schemaProblem(_ xml: String, schema: String) throws -> String? {
        let dir = try #require(Self.schemas, "spid-sp-test's XSDs are not installed (scripts/install-deps.sh)")
        let file = NSTemporaryDirectory() + "cnsgw-schema-\(UUID().uuidString).xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try runCommand("xmllint", ["--noout", "--nonet", "--schema", "\(dir)/\(schema)", file])
        return r.status == 0 && r.stderr.contains("validates") ? nil : r.stderr
    }

    func builder() throws -> ResponseBuilder { ResponseBuilder(idp: IdP.config, key: try Self.golden.key().0) }

    func login(_ level: SpidLevel, sessionIndex: String?, signResponse: Bool) -> ResponseBuilder.Login {
        ResponseBuilder.Login(identity: ResponseGoldenTests.identity, level: level, authenticatedAt: Self.now - 30, sessionIndex: sessionIndex,
                              attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth", "gender", "placeOfBirth", "spidCode"],
                              allowDerivedAttributes: true, includeOIDNames: false, signResponse: signResponse)
    }

    /// Every error Response the gateway can send: the request-side rows (nr08–nr18) and the user-side rows.
    static let errorRows: [(code: Int, status: String, subStatus: String?)] = [
        (8, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported), (9, SAMLNames.Status.versionMismatch, nil),
        (11, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported), (12, SAMLNames.Status.requester, SAMLNames.Status.noAuthnContext),
        (13, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported), (14, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported),
        (15, SAMLNames.Status.requester, SAMLNames.Status.invalidNameIDPolicy), (16, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported),
        (17, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported), (18, SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported),
    ] + [LoginEnding.abandoned, .revoked, .refused("x"), .levelTooLow, .denied].map { ending in
        let row = SPIDErrorTable.userError(ending)
        return (row.code, SAMLNames.Status.responder, row.subStatus)
    }

    @Test("metadata, Responses (success at each level, signed or not, and every error row), LogoutRequest and LogoutResponse validate against the SAML 2.0 XSDs")
    func everyMessageValidates() throws {
        let (key, certificate) = try Self.golden.key()
        let metadata = try IdentityProviderMetadata.build(IdP.config, certificatesPEM: [certificate], signingKey: key, now: Self.now)
        #expect(try schemaProblem(metadata, schema: "saml-schema-metadata-2.0.xsd") == nil)
        let b = try builder()
        for (level, session) in [(SpidLevel.spidL1, "_s1" as String?), (.spidL2, nil), (.spidL3, nil)] {
            for signResponse in [false, true] {
                let xml = try b.success(login(level, sessionIndex: session, signResponse: signResponse), to: ResponseGoldenTests.destination, now: Self.now)
                #expect(try schemaProblem(xml, schema: "saml-schema-protocol-2.0.xsd") == nil, "success \(level) signResponse \(signResponse)")
            }
        }
        for row in Self.errorRows {
            let xml = try b.failure(status: row.status, subStatus: row.subStatus, message: SAMLRequestError.statusMessage(row.code),
                                    to: ResponseGoldenTests.destination, now: Self.now)
            #expect(try schemaProblem(xml, schema: "saml-schema-protocol-2.0.xsd") == nil, "nr\(row.code)")
        }
        let logoutRequest = try b.logoutRequest(id: "_lr", nameID: "_nameid", sessionIndex: "_s1", to: "https://sp.example.it/sp",
                                                location: "https://sp.example.it/slo", now: Self.now)
        #expect(try schemaProblem(logoutRequest, schema: "saml-schema-protocol-2.0.xsd") == nil)
        for (status, sub) in [(SAMLNames.Status.success, nil as String?), (SAMLNames.Status.success, SAMLNames.Status.partialLogout),
                              (SAMLNames.Status.requester, SAMLNames.Status.requestUnsupported)] {
            let xml = try b.logoutResponse(status: status, subStatus: sub, message: sub == nil ? nil : "ErrorCode nr14", to: ResponseGoldenTests.destination, now: Self.now)
            #expect(try schemaProblem(xml, schema: "saml-schema-protocol-2.0.xsd") == nil, "LogoutResponse \(status) \(sub ?? "")")
        }
        // The checker itself can fail: a Response with an element out of order does not validate.
        let broken = try b.failure(status: SAMLNames.Status.requester, subStatus: nil, message: "x", to: ResponseGoldenTests.destination, now: Self.now)
            .replacingOccurrences(of: "<samlp:Status>", with: "<samlp:Status><samlp:StatusMessage>early</samlp:StatusMessage>")
        #expect(try schemaProblem(broken, schema: "saml-schema-protocol-2.0.xsd") != nil)
    }

    // MARK: the IdP checker's rules, one test each

    func parsed(_ xml: String) throws -> ParsedXML { try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20) }

    @Test("metadata: WantAuthnRequestsSigned=\"true\", both SSO bindings, SLO, a signing certificate, signed with RSA-SHA256")
    func metadataRules() throws {
        let (key, certificate) = try Self.golden.key()
        let xml = try IdentityProviderMetadata.build(IdP.config, certificatesPEM: [certificate], signingKey: key, now: Self.now)
        let idp = try #require(try parsed(xml).root.child("IDPSSODescriptor", namespace: SAMLNames.metadataNS))
        #expect(idp.attribute("WantAuthnRequestsSigned") == "true")
        let sso = idp.children("SingleSignOnService", namespace: SAMLNames.metadataNS).compactMap { $0.attribute("Binding") }
        #expect(Set(sso) == [SAMLNames.redirectBinding, SAMLNames.postBinding])
        #expect(!idp.children("SingleLogoutService", namespace: SAMLNames.metadataNS).isEmpty)
        #expect(idp.children("KeyDescriptor", namespace: SAMLNames.metadataNS).contains { $0.attribute("use") == "signing" })
        #expect(xml.contains("xmldsig-more#rsa-sha256") && xml.contains("xmlenc#sha256") && !xml.contains("rsa-sha1\"") && !xml.contains("#sha1\""))
    }

    @Test("Responses are signed with SHA-256 or better, never SHA-1")
    func signatureAlgorithms() throws {
        for signResponse in [false, true] {
            let xml = try builder().success(login(.spidL2, sessionIndex: nil, signResponse: signResponse), to: ResponseGoldenTests.destination, now: Self.now)
            #expect(xml.contains("xmldsig-more#rsa-sha256") && !xml.contains("rsa-sha1\"") && !xml.contains("xmldsig#sha1\""))
        }
    }

    @Test("SessionIndex appears only at SpidL1 (no single sign-on above it)")
    func sessionIndexOnlyAtL1() throws {
        let l1 = try builder().success(login(.spidL1, sessionIndex: "_session", signResponse: false), to: ResponseGoldenTests.destination, now: Self.now)
        let l2 = try builder().success(login(.spidL2, sessionIndex: nil, signResponse: false), to: ResponseGoldenTests.destination, now: Self.now)
        func statement(_ xml: String) throws -> XMLElement? {
            try parsed(xml).root.child("Assertion", namespace: SAMLNames.assertionNS)?.child("AuthnStatement", namespace: SAMLNames.assertionNS)
        }
        #expect(try statement(l1)?.attribute("SessionIndex") == "_session")
        #expect(try statement(l2) != nil && statement(l2)?.attribute("SessionIndex") == nil)
    }

    @Test("attributes: basic NameFormat, typed values (xs:string, xs:date for dateOfBirth), fiscalNumber as TINIT-<CF>")
    func attributeFormats() throws {
        let xml = try builder().success(login(.spidL2, sessionIndex: nil, signResponse: false), to: ResponseGoldenTests.destination, now: Self.now)
        let statement = try #require(try parsed(xml).root.child("Assertion", namespace: SAMLNames.assertionNS)?
            .child("AttributeStatement", namespace: SAMLNames.assertionNS))
        let attributes = statement.children("Attribute", namespace: SAMLNames.assertionNS)
        #expect(attributes.count >= 6)
        for attribute in attributes {
            let name = attribute.attribute("Name") ?? ""
            #expect(attribute.attribute("NameFormat") == SAMLNames.basicNameFormat, "\(name)")
            #expect(attribute.child("AttributeValue", namespace: SAMLNames.assertionNS)?.text?.isEmpty == false, "\(name)")
            // xsi:type, read from the serialized Response (the parser's attribute lookup is namespace-free).
            let regex = try NSRegularExpression(pattern: #"Name="\#(name)"[^>]*><saml:AttributeValue[^>]*xsi:type="([^"]+)""#)
            let match = regex.firstMatch(in: xml, range: NSRange(xml.startIndex..., in: xml))
            let type = match.flatMap { Range($0.range(at: 1), in: xml) }.map { String(xml[$0]) }
            #expect(type == (name == "dateOfBirth" ? "xs:date" : "xs:string"), "\(name): \(type ?? "none")")
        }
        let fiscal = attributes.first { $0.attribute("Name") == "fiscalNumber" }?.child("AttributeValue", namespace: SAMLNames.assertionNS)?.text
        #expect(fiscal == "TINIT-RCCMNL83S18D969H")
    }

    @Test("error Responses: top-level Requester, Responder or VersionMismatch, the sub-status of the row, StatusMessage \"ErrorCode nrNN\", no assertion")
    func statusHierarchy() throws {
        for row in Self.errorRows {
            let xml = try builder().failure(status: row.status, subStatus: row.subStatus, message: SAMLRequestError.statusMessage(row.code),
                                            to: ResponseGoldenTests.destination, now: Self.now)
            let root = try parsed(xml).root
            #expect(root.child("Assertion", namespace: SAMLNames.assertionNS) == nil)
            let status = try #require(root.child("Status", namespace: SAMLNames.protocolNS))
            let top = try #require(status.child("StatusCode", namespace: SAMLNames.protocolNS))
            #expect([SAMLNames.Status.requester, SAMLNames.Status.responder, SAMLNames.Status.versionMismatch].contains(top.attribute("Value") ?? ""))
            #expect(top.child("StatusCode", namespace: SAMLNames.protocolNS)?.attribute("Value") == row.subStatus, "nr\(row.code)")
            let message = status.child("StatusMessage", namespace: SAMLNames.protocolNS)?.text ?? ""
            #expect(message.range(of: #"^ErrorCode nr[0-9]{2}$"#, options: .regularExpression) != nil, "\(message)")
        }
    }
}
