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
    /// then Version, ID, IssueInstant, Destination and a NameID, with the error table's statuses. Errors after the
    /// signature go back to the SP's SLO endpoint as a LogoutResponse. As for AuthnRequests, a `spid` SP may write the
    /// gateway's entityID as Destination (as AgID's test identity provider accepts). Empty SessionIndex elements (an SP
    /// logging out of an SpidL2/L3 login, which opened no session) name nothing.
    public func validateLogout(_ message: IncomingMessage, now: Date) throws(SAMLRequestError) -> ValidatedLogoutRequest {
        let (root, issuer, registration, metadata) = try authenticate(message, expecting: "LogoutRequest")
        guard let slo = metadata.singleLogoutServices.first(where: { $0.binding == SAMLNames.postBinding }) else {
            throw SAMLRequestError(8, reason: "slo_endpoint", "\(issuer) has no HTTP-POST SingleLogoutService in its metadata to answer to")
        }
        let id = root.attribute("ID") ?? ""
        let destination = ResponseDestination(serviceProvider: issuer, assertionConsumerServiceURL: slo.responseLocation ?? slo.location,
                                              inResponseTo: id, relayState: message.relayState)
        func fail(_ code: Int, _ reason: String, _ detail: String, status: String = SAMLNames.Status.requester, sub: String? = nil) -> SAMLRequestError {
            SAMLRequestError(code, status: status, subStatus: sub, reason: reason, detail, delivery: .response(destination))
        }
        guard root.attribute("Version") == "2.0" else { throw fail(9, "version", "Version must be 2.0", status: SAMLNames.Status.versionMismatch) }
        guard Self.isXMLID(id) else { throw fail(11, "id", "the request ID '\(id)' is missing or not an xs:ID") }
        guard let instant = root.attribute("IssueInstant").flatMap(SAMLTime.parse),
              instant <= now + idp.clockSkew, instant >= now - idp.maximumRequestAge - idp.clockSkew else {
            throw fail(13, "issue_instant", "IssueInstant is missing or outside the accepted window", sub: SAMLNames.Status.requestDenied)
        }
        let written = root.attribute("Destination")
        guard written == idp.singleLogoutURL || (registration.profile == .spid && written == idp.entityID) else {
            throw fail(14, "destination", "Destination '\(written ?? "")' is not \(idp.singleLogoutURL)", sub: SAMLNames.Status.requestUnsupported)
        }
        // The NameID's whole text (comments inside it neither cut nor hide a part).
        guard let nameID = root.child("NameID", namespace: SAMLNames.assertionNS)?.text?.trimmingCharacters(in: .whitespacesAndNewlines), !nameID.isEmpty else {
            throw fail(8, "name_id", "the LogoutRequest has no NameID")
        }
        let indexes = root.children("SessionIndex", namespace: SAMLNames.protocolNS)
            .compactMap { $0.text?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return ValidatedLogoutRequest(id: id, issuer: issuer, nameID: nameID, sessionIndexes: indexes, destination: destination)
    }
}
