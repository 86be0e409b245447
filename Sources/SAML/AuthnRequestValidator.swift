import Foundation
import KeyMaterial
import LoginOutcome
import XMLSecurity

/// An AuthnRequest that passed every rule of its SP's profile.
public struct ValidatedAuthnRequest: Sendable, Hashable {
    public let id: String
    public let issuer: String
    public let issueInstant: Date
    public let destination: ResponseDestination
    public let level: SpidLevel
    public let comparison: LevelComparison
    public let forceAuthn: Bool
    /// SPID attribute names to release.
    public let attributes: [String]
    public let profile: ServiceProviderRegistration.Profile

    public init(id: String, issuer: String, issueInstant: Date, destination: ResponseDestination, level: SpidLevel, comparison: LevelComparison,
                forceAuthn: Bool, attributes: [String], profile: ServiceProviderRegistration.Profile) {
        self.id = id
        self.issuer = issuer
        self.issueInstant = issueInstant
        self.destination = destination
        self.level = level
        self.comparison = comparison
        self.forceAuthn = forceAuthn
        self.attributes = attributes
        self.profile = profile
    }
}

/// Checks AuthnRequests: signature with the key from the issuer's metadata only, then the SPID rules (DOMAIN.md §3.1)
/// for `spid` SPs or the Web Browser SSO profile for `saml2` SPs. A failure says where its error goes.
public struct AuthnRequestValidator: Sendable {
    public typealias Lookup = @Sendable (String) -> (ServiceProviderRegistration, ServiceProviderMetadata)?
    public let idp: IdentityProviderConfiguration
    public let lookup: Lookup

    public init(idp: IdentityProviderConfiguration, lookup: @escaping Lookup) {
        self.idp = idp
        self.lookup = lookup
    }

    public func validate(_ message: IncomingMessage, now: Date) throws(SAMLRequestError) -> ValidatedAuthnRequest {
        let (root, issuer, registration, metadata) = try authenticate(message, expecting: "AuthnRequest")
        try checkIssuerForm(root, spid: registration.profile == .spid)

        // From here the SP is known and the request is its own: errors go back to an ACS its metadata lists.
        let id = root.attribute("ID") ?? ""
        let relayState = message.relayState
        let fallbackACS = metadata.defaultACS!.location
        func fail(_ code: Int, _ sub: String?, _ reason: String, _ detail: String, acs: String? = nil, status: String = SAMLNames.Status.requester) -> SAMLRequestError {
            SAMLRequestError(code, status: status, subStatus: sub, reason: reason, detail,
                             delivery: .response(ResponseDestination(serviceProvider: issuer, assertionConsumerServiceURL: acs ?? fallbackACS,
                                                                     inResponseTo: id, relayState: relayState)))
        }
        let spid = registration.profile == .spid
        // nr16 goes to the default ACS (the table's note): the one the request named is the thing in doubt.
        let acs = try chooseACS(root, metadata: metadata, spid: spid, fail: { fail(16, SAMLNames.Status.requestUnsupported, "acs", $0) })
        func ensure(_ condition: Bool, _ error: @autoclosure () -> SAMLRequestError) throws(SAMLRequestError) { if !condition { throw error() } }

        // nr09's top-level status is VersionMismatch itself, with no second level.
        try ensure(root.attribute("Version") == "2.0", fail(9, nil, "version", "Version must be 2.0", acs: acs.location, status: SAMLNames.Status.versionMismatch))
        try ensure(Self.isXMLID(id), fail(11, nil, "id", "the request ID '\(id)' is missing or not an xs:ID", acs: acs.location))
        guard let instant = root.attribute("IssueInstant").flatMap(SAMLTime.parse) else {
            throw fail(13, SAMLNames.Status.requestDenied, "issue_instant", "IssueInstant is missing or not a UTC dateTime", acs: acs.location)
        }
        try ensure(instant <= now + idp.clockSkew, fail(13, SAMLNames.Status.requestDenied, "issue_instant", "IssueInstant \(instant) is in the future", acs: acs.location))
        try ensure(instant >= now - idp.maximumRequestAge - idp.clockSkew,
                   fail(13, SAMLNames.Status.requestDenied, "issue_instant", "IssueInstant \(instant) is older than \(Int(idp.maximumRequestAge)) s", acs: acs.location))
        let destination = root.attribute("Destination")
        try ensure(destination == idp.singleSignOnURL || (spid && destination == idp.entityID),
                   fail(14, SAMLNames.Status.requestUnsupported, "destination", "Destination '\(destination ?? "")' is not \(idp.singleSignOnURL)", acs: acs.location))
        for name in ["ForceAuthn", "IsPassive"] {
            if let value = root.attribute(name) {
                try ensure(Self.isBoolean(value), fail(8, nil, "malformed", "\(name)='\(value)' is not an xs:boolean", acs: acs.location))
            }
        }
        // nr15 is IsPassive true (the table's row; "false" asks for nothing the card step does not do anyway). For a
        // SPID SP it is a request anomaly (Requester); for a saml2 SP SAML's Responder/NoPassive.
        if let passive = root.attribute("IsPassive"), passive == "true" || passive == "1" {
            throw fail(15, SAMLNames.Status.noPassive, "is_passive", "a passive login is not possible: the card must be presented",
                       acs: acs.location, status: spid ? SAMLNames.Status.requester : SAMLNames.Status.responder)
        }
        if let policy = root.child("NameIDPolicy", namespace: SAMLNames.protocolNS) {
            let format = policy.attribute("Format")
            if spid {
                // The table's nr17 note: an AllowCreate of any value is no error; the login goes on.
                try ensure(format == SAMLNames.transientFormat,
                           fail(17, SAMLNames.Status.requestUnsupported, "name_id_policy", "NameIDPolicy Format must be transient (is '\(format ?? "")')", acs: acs.location))
            } else {
                try ensure(format == nil || format == SAMLNames.transientFormat || format == SAMLNames.unspecifiedFormat,
                           fail(17, SAMLNames.Status.invalidNameIDPolicy, "name_id_policy", "only transient NameIDs are issued (asked: \(format ?? ""))", acs: acs.location))
            }
        } else if spid {
            throw fail(17, SAMLNames.Status.requestUnsupported, "name_id_policy", "NameIDPolicy with Format transient is required (SPID)", acs: acs.location)
        }
        let (level, comparison) = try requestedLevel(root, registration: registration, fail: { fail(12, SAMLNames.Status.noAuthnContext, "authn_context", $0, acs: acs.location) })
        let attributes = try releasedAttributes(root, registration: registration, metadata: metadata,
                                                fail: { fail(18, SAMLNames.Status.requestUnsupported, "attribute_service", $0, acs: acs.location) })
        if spid { try checkPurpose(root, fail: { code, status, sub, detail in fail(code, sub, "purpose", detail, acs: acs.location, status: status) }) }
        let force = root.attribute("ForceAuthn").map { $0 == "true" || $0 == "1" } ?? false
        return ValidatedAuthnRequest(id: id, issuer: issuer, issueInstant: instant,
                                     destination: ResponseDestination(serviceProvider: issuer, assertionConsumerServiceURL: acs.location, inResponseTo: id,
                                                                      relayState: relayState),
                                     level: level, comparison: comparison, forceAuthn: force || level > .spidL1, attributes: attributes,
                                     profile: registration.profile)
    }

    /// The steps every request shares: well-formed hardened XML, the expected root, one Issuer that is a registered
    /// SP, and a signature by that SP's metadata key. The returned element keeps its document alive.
    func authenticate(_ message: IncomingMessage, expecting name: String) throws(SAMLRequestError)
        -> (root: XMLElement, issuer: String, registration: ServiceProviderRegistration, metadata: ServiceProviderMetadata) {
        let document: ParsedXML
        do { document = try ParsedXML(message.xml, maximumSize: IncomingMessage.maximumXMLSize) } catch {
            throw SAMLRequestError(8, reason: (error as? XMLSecurityError)?.code.rawValue ?? "malformed", "the request is not acceptable XML: \(error)")
        }
        let root = document.root
        guard root.localName == name, root.namespaceURI == SAMLNames.protocolNS else {
            throw SAMLRequestError(8, reason: "malformed", "the message is <\(root.localName)>, not a SAML 2.0 \(name)")
        }
        let issuerElements = root.children("Issuer", namespace: SAMLNames.assertionNS)
        guard issuerElements.count == 1, let issuer = issuerElements[0].text?.trimmingCharacters(in: .whitespacesAndNewlines), !issuer.isEmpty else {
            throw SAMLRequestError(8, reason: "issuer", "the request must have exactly one Issuer")
        }
        guard let (registration, metadata) = lookup(issuer) else {
            throw SAMLRequestError(10, reason: "unknown_issuer", "no service provider '\(issuer)' is registered (cnsgw sp add)")
        }
        try verifySignature(message, root: root, registration: registration, metadata: metadata)
        return (root, issuer, registration, metadata)
    }

    /// SPID's `Purpose` extension (Avviso 18): which kind of digital identity the SP asks for. A CNS card is a natural
    /// person's own identity (`P`); a professional or legal-person identity (`LP`, `PG`, `PF`, `PX`) is one the citizen
    /// cannot present here: nr30 (Responder/AuthnFailed). A value outside the list is not SPID-conformant (nr08).
    func checkPurpose(_ root: XMLElement, fail: (Int, String, String?, String) -> SAMLRequestError) throws(SAMLRequestError) {
        let purposes = root.child("Extensions", namespace: SAMLNames.protocolNS)?.children("Purpose", namespace: SAMLNames.spidExtensionsNS) ?? []
        guard let element = purposes.first else { return }
        let purpose = (element.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard purposes.count == 1, ["P", "LP", "PG", "PF", "PX"].contains(purpose) else {
            throw fail(8, SAMLNames.Status.requester, nil, "spid:Purpose must be one of P, LP, PG, PF, PX, once (is '\(purpose)')")
        }
        if purpose != "P" {
            throw fail(30, SAMLNames.Status.responder, SAMLNames.Status.authnFailed,
                       "the service asks for a \(purpose) identity (Purpose); a CNS card is its holder's own natural-person identity (P)")
        }
    }

    /// The Issuer's form (nr10, a page for the citizen): Format omitted or `entity` (SAML profiles §4.1.4.1); a SPID SP
    /// writes both Format and NameQualifier (DOMAIN.md §3.1).
    func checkIssuerForm(_ root: XMLElement, spid: Bool) throws(SAMLRequestError) {
        guard let element = root.child("Issuer", namespace: SAMLNames.assertionNS) else { return }
        let format = element.attribute("Format")
        if format.map({ $0 != SAMLNames.entityFormat }) ?? spid {
            throw SAMLRequestError(10, reason: "issuer", "the Issuer's Format must be \(SAMLNames.entityFormat)\(spid ? " (SPID)" : "") (is '\(format ?? "")')")
        }
        if spid && (element.attribute("NameQualifier") ?? "").isEmpty {
            throw SAMLRequestError(10, reason: "issuer", "the Issuer must have a NameQualifier (SPID)")
        }
    }

    /// The signature, by the binding's rules, with the issuer's metadata keys only.
    public func verifySignature(_ message: IncomingMessage, root: XMLElement, registration: ServiceProviderRegistration,
                         metadata: ServiceProviderMetadata) throws(SAMLRequestError) {
        switch message.binding {
        case .redirect:
            guard let signature = message.detachedSignature else {
                throw SAMLRequestError(5, reason: "signature_missing", "the request is not signed (SigAlg and Signature are required)")
            }
            guard let algorithm = SAMLNames.signatureAlgorithms[signature.algorithm], !algorithm.sha1 || registration.allowSHA1,
                  let digest = X509Certificate.SignatureDigest(rawValue: algorithm.digest) else {
                throw SAMLRequestError(5, reason: "algorithm", "SigAlg \(signature.algorithm) is not allowed")
            }
            guard metadata.signingCertificates.contains(where: { $0.verifies(signature: signature.value, over: signature.signedOctets, digest: digest) }) else {
                throw SAMLRequestError(5, reason: "signature", "the signature does not verify with the signing key in \(registration.entityID)'s metadata")
            }
        case .post:
            var lastError = "no signing certificate"
            for certificate in metadata.signingCertificates {
                do {
                    _ = try XMLSignatureVerifier.verify(root, certificate: certificate.derBytes, policy: XMLSignaturePolicy(allowSHA1: registration.allowSHA1))
                    return
                } catch let error as XMLSecurityError {
                    lastError = error.detail
                    if error.code == .signatureMissing || error.code == .duplicateID { break }
                } catch {
                    lastError = "\(error)"
                }
            }
            // nr07 is the POST binding's signature failure (nr05 the Redirect binding's).
            throw SAMLRequestError(7, reason: "signature", "the request's signature was refused: \(lastError)")
        }
    }

    /// The ACS: by index, or by a URL that equals one in the metadata (with the POST binding). The index excludes the
    /// URL and the binding (SAML core §3.4.1). A `spid` SP must name one (the URL with its ProtocolBinding, nr16's
    /// note); a `saml2` SP that names none gets its default ACS.
    func chooseACS(_ root: XMLElement, metadata: ServiceProviderMetadata, spid: Bool, fail: (String) -> SAMLRequestError) throws(SAMLRequestError)
        -> ServiceProviderMetadata.Endpoint {
        let index = root.attribute("AssertionConsumerServiceIndex")
        let url = root.attribute("AssertionConsumerServiceURL")
        let binding = root.attribute("ProtocolBinding")
        if index != nil && (url != nil || binding != nil) {
            throw fail("AssertionConsumerServiceIndex must not come with AssertionConsumerServiceURL or ProtocolBinding")
        }
        if spid && index == nil && (url == nil || binding == nil) {
            throw fail(url == nil && binding == nil
                       ? "the request names no ACS: AssertionConsumerServiceIndex, or AssertionConsumerServiceURL with ProtocolBinding, is required (SPID)"
                       : "AssertionConsumerServiceURL and ProtocolBinding must come together (SPID)")
        }
        if let index {
            guard let n = Int(index), let endpoint = metadata.assertionConsumerServices.first(where: { $0.index == n && $0.binding == SAMLNames.postBinding }) else {
                throw fail("AssertionConsumerServiceIndex \(index) is not an HTTP-POST ACS in the metadata")
            }
            return endpoint
        }
        if let url {
            if let binding, binding != SAMLNames.postBinding {
                throw fail("ProtocolBinding \(binding) is not supported: Responses are sent with HTTP-POST")
            }
            guard let endpoint = metadata.assertionConsumerServices.first(where: { $0.location == url && $0.binding == SAMLNames.postBinding }) else {
                throw fail("AssertionConsumerServiceURL \(url) is not an ACS in the metadata")
            }
            return endpoint
        }
        if let binding, binding != SAMLNames.postBinding {
            throw fail("ProtocolBinding \(binding) is not supported: Responses are sent with HTTP-POST")
        }
        return metadata.defaultACS!
    }

    func requestedLevel(_ root: XMLElement, registration: ServiceProviderRegistration, fail: (String) -> SAMLRequestError) throws(SAMLRequestError) -> (SpidLevel, LevelComparison) {
        guard let context = root.child("RequestedAuthnContext", namespace: SAMLNames.protocolNS) else {
            if registration.profile == .spid { throw fail("RequestedAuthnContext is required (SPID)") }
            return (registration.minimumLevel, .minimum)
        }
        // SAML's default for a missing Comparison is exact; SPID requires it written (AgID's IdP checker).
        guard let written = context.attribute("Comparison") ?? (registration.profile == .spid ? nil : "exact") else {
            throw fail("RequestedAuthnContext must have a Comparison (SPID)")
        }
        guard let comparison = LevelComparison(rawValue: written) else { throw fail("Comparison '\(written)' is not valid") }
        let refs = context.children("AuthnContextClassRef", namespace: SAMLNames.assertionNS).compactMap { $0.text?.trimmingCharacters(in: .whitespacesAndNewlines) }
        let levels = refs.compactMap(SpidLevel.init(uri:))
        if registration.profile == .spid {
            guard refs.count == 1, let level = levels.first else { throw fail("exactly one AuthnContextClassRef among the SPID levels is required") }
            return (max(level, registration.minimumLevel), comparison)
        }
        guard let level = levels.min() else {
            throw fail("none of the requested contexts (\(refs.joined(separator: ", "))) can be met: the gateway authenticates at the SPID levels")
        }
        return (max(level, registration.minimumLevel), comparison)
    }

    func releasedAttributes(_ root: XMLElement, registration: ServiceProviderRegistration, metadata: ServiceProviderMetadata,
                            fail: (String) -> SAMLRequestError) throws(SAMLRequestError) -> [String] {
        if let value = root.attribute("AttributeConsumingServiceIndex") {
            guard let n = Int(value), n >= 0, let service = metadata.attributeServices.first(where: { $0.index == n }) else {
                throw fail("AttributeConsumingServiceIndex \(value) is not in the metadata")
            }
            return service.names
        }
        if registration.profile == .spid, let first = metadata.attributeServices.min(by: { $0.index < $1.index }) { return first.names }
        return registration.attributes.isEmpty ? (metadata.attributeServices.first?.names ?? ["fiscalNumber"]) : registration.attributes
    }

    /// xs:boolean's four lexical forms.
    static func isBoolean(_ value: String) -> Bool { ["true", "false", "1", "0"].contains(value) }

    /// xs:ID (an NCName): a letter or `_` first, then letters, digits, `.`, `-`, `_`.
    static func isXMLID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_" else { return false }
        return id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }
    }
}

extension SpidLevel {
    /// `https://www.spid.gov.it/SpidL2` and friends.
    public var uri: String { "https://www.spid.gov.it/\(rawValue)" }
    public init?(uri: String) {
        guard uri.hasPrefix("https://www.spid.gov.it/"), let level = SpidLevel(rawValue: String(uri.dropFirst("https://www.spid.gov.it/".count))) else { return nil }
        self = level
    }
}
