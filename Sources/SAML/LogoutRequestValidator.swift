import Foundation
import XMLSecurity

/// A LogoutRequest that passed its checks (DOMAIN.md §3.6).
public struct ValidatedLogoutRequest: Sendable, Hashable {
    public let id: String
    public let issuer: String
    public let nameID: String
    public let sessionIndexes: [String]
    /// Where the LogoutResponse goes (the SP's HTTP-POST SingleLogoutService).
    public let destination: ResponseDestination
}

extension AuthnRequestValidator {
    /// Checks a service provider's LogoutRequest: issuer and signature as for AuthnRequests (the metadata key only),
    /// then Version, ID, IssueInstant, Destination and a NameID. Errors after the signature go back to the SP's SLO
    /// endpoint as a LogoutResponse.
    public func validateLogout(_ message: IncomingMessage, now: Date) throws(SAMLRequestError) -> ValidatedLogoutRequest {
        let (root, issuer, _, metadata) = try authenticate(message, expecting: "LogoutRequest")
        guard let slo = metadata.singleLogoutServices.first(where: { $0.binding == SAMLNames.postBinding }) else {
            throw SAMLRequestError(8, reason: "slo_endpoint", "\(issuer) has no HTTP-POST SingleLogoutService in its metadata to answer to")
        }
        let id = root.attribute("ID") ?? ""
        let destination = ResponseDestination(serviceProvider: issuer, assertionConsumerServiceURL: slo.responseLocation ?? slo.location,
                                              inResponseTo: id, relayState: message.relayState)
        func fail(_ code: Int, _ reason: String, _ detail: String, status: String = SAMLNames.Status.requester) -> SAMLRequestError {
            SAMLRequestError(code, status: status, reason: reason, detail, delivery: .response(destination))
        }
        guard root.attribute("Version") == "2.0" else { throw fail(9, "version", "Version must be 2.0", status: SAMLNames.Status.versionMismatch) }
        guard Self.isXMLID(id) else { throw fail(11, "id", "the request ID '\(id)' is missing or not an xs:ID") }
        guard let instant = root.attribute("IssueInstant").flatMap(SAMLTime.parse),
              instant <= now + idp.clockSkew, instant >= now - idp.maximumRequestAge - idp.clockSkew else {
            throw fail(13, "issue_instant", "IssueInstant is missing or outside the accepted window")
        }
        guard root.attribute("Destination") == idp.singleLogoutURL else {
            throw fail(14, "destination", "Destination '\(root.attribute("Destination") ?? "")' is not \(idp.singleLogoutURL)")
        }
        // The NameID's whole text (comments inside it neither cut nor hide a part).
        guard let nameID = root.child("NameID", namespace: SAMLNames.assertionNS)?.text?.trimmingCharacters(in: .whitespacesAndNewlines), !nameID.isEmpty else {
            throw fail(8, "name_id", "the LogoutRequest has no NameID")
        }
        let indexes = root.children("SessionIndex", namespace: SAMLNames.protocolNS).compactMap { $0.text?.trimmingCharacters(in: .whitespacesAndNewlines) }
        return ValidatedLogoutRequest(id: id, issuer: issuer, nameID: nameID, sessionIndexes: indexes, destination: destination)
    }
}

extension ResponseBuilder {
    /// A signed LogoutResponse.
    public func logoutResponse(status: String, subStatus: String? = nil, message: String? = nil, to destination: ResponseDestination, now: Date) throws -> String {
        let e = XMLText.escape
        let inner = subStatus.map { #"<samlp:StatusCode Value="\#($0)"/>"# } ?? ""
        let statusMessage = message.map { "<samlp:StatusMessage>\(e($0))</samlp:StatusMessage>" } ?? ""
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>\
            <samlp:LogoutResponse xmlns:samlp="\(SAMLNames.protocolNS)" xmlns:saml="\(SAMLNames.assertionNS)" ID="\(makeID())" Version="2.0" \
            IssueInstant="\(SAMLTime.format(now))" Destination="\(e(destination.assertionConsumerServiceURL))" InResponseTo="\(e(destination.inResponseTo))">\
            <saml:Issuer Format="\(SAMLNames.entityFormat)" NameQualifier="\(e(idp.entityID))">\(e(idp.entityID))</saml:Issuer>\
            <samlp:Status><samlp:StatusCode Value="\(status)">\(inner)</samlp:StatusCode>\(statusMessage)</samlp:Status></samlp:LogoutResponse>
            """
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        return document.serialized()
    }
}

/// A LogoutResponse from a service provider the gateway sent a LogoutRequest to.
public struct ValidatedLogoutResponse: Sendable, Hashable {
    public let issuer: String
    public let inResponseTo: String
    public let success: Bool
}

extension AuthnRequestValidator {
    /// Checks an SP's LogoutResponse: issuer, signature with its metadata key, Destination, InResponseTo and status.
    public func validateLogoutResponse(_ message: IncomingMessage, now: Date) throws(SAMLRequestError) -> ValidatedLogoutResponse {
        let (root, issuer, _, _) = try authenticate(message, expecting: "LogoutResponse")
        guard root.attribute("Version") == "2.0", let inResponseTo = root.attribute("InResponseTo") else {
            throw SAMLRequestError(8, reason: "malformed", "the LogoutResponse has no Version 2.0 or no InResponseTo")
        }
        if let destination = root.attribute("Destination"), destination != idp.singleLogoutURL {
            throw SAMLRequestError(14, reason: "destination", "Destination '\(destination)' is not \(idp.singleLogoutURL)")
        }
        guard let instant = root.attribute("IssueInstant").flatMap(SAMLTime.parse), instant <= now + idp.clockSkew,
              instant >= now - idp.maximumRequestAge - idp.clockSkew else {
            throw SAMLRequestError(13, reason: "issue_instant", "IssueInstant is missing or outside the accepted window")
        }
        let status = root.child("Status", namespace: SAMLNames.protocolNS)?.child("StatusCode", namespace: SAMLNames.protocolNS)?.attribute("Value")
        return ValidatedLogoutResponse(issuer: issuer, inResponseTo: inResponseTo, success: status == SAMLNames.Status.success)
    }
}

extension ResponseBuilder {
    /// A signed LogoutRequest from the gateway to a service provider that took part in an ended session. The NameID is
    /// written exactly as the assertion gave it (SPs compare them whole).
    public func logoutRequest(id: String, nameID: String, sessionIndex: String, to sp: String, location: String, now: Date) throws -> String {
        let e = XMLText.escape
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>\
            <samlp:LogoutRequest xmlns:samlp="\(SAMLNames.protocolNS)" xmlns:saml="\(SAMLNames.assertionNS)" ID="\(id)" Version="2.0" \
            IssueInstant="\(SAMLTime.format(now))" Destination="\(e(location))" NotOnOrAfter="\(SAMLTime.format(now + idp.assertionLifetime))">\
            <saml:Issuer Format="\(SAMLNames.entityFormat)" NameQualifier="\(e(idp.entityID))">\(e(idp.entityID))</saml:Issuer>\
            <saml:NameID Format="\(SAMLNames.transientFormat)" NameQualifier="\(e(idp.entityID))">\(e(nameID))</saml:NameID>\
            <samlp:SessionIndex>\(e(sessionIndex))</samlp:SessionIndex></samlp:LogoutRequest>
            """
        let document = try ParsedXML(Array(xml.utf8), maximumSize: 1 << 20)
        try XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: key)
        return document.serialized()
    }
}
