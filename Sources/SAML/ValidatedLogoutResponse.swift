import Foundation
import XMLSecurity

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
