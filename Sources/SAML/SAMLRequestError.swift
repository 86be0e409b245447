/// Why an AuthnRequest (or LogoutRequest) was refused, with the SPID error code (`ErrorCode nrNN`, DOMAIN.md §3.4).
public struct SAMLRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where a refusal goes.
    public enum Delivery: Sendable, Hashable {
        /// An error page: no safe place to send a Response (unknown issuer, bad signature, unreadable message).
        case page
        /// A signed error Response to this ACS, which the SP's metadata lists.
        case response(ResponseDestination)
    }

    public let spidCode: Int
    public let status: String
    public let subStatus: String?
    /// A short stable reason for the audit log and metrics (`signature`, `acs`, `issue_instant`, ...).
    public let reason: String
    public let detail: String
    public let delivery: Delivery

    public init(_ spidCode: Int, status: String = SAMLNames.Status.requester, subStatus: String? = nil, reason: String, _ detail: String,
                delivery: Delivery = .page) {
        self.spidCode = spidCode
        self.status = status
        self.subStatus = subStatus
        self.reason = reason
        self.detail = detail
        self.delivery = delivery
    }

    public var statusMessage: String { Self.statusMessage(spidCode) }
    /// The SPID `StatusMessage` of an error code: `ErrorCode nr08`, `ErrorCode nr22`.
    public static func statusMessage(_ code: Int) -> String { "ErrorCode " + errorCode(code) }
    /// `nr08`, `nr22`: how audit records name a code.
    public static func errorCode(_ code: Int) -> String { "nr\(code < 10 ? "0" : "")\(code)" }
    public var description: String { "\(statusMessage) (\(reason)): \(detail)" }

    func delivered(to destination: ResponseDestination) -> SAMLRequestError {
        SAMLRequestError(spidCode, status: status, subStatus: subStatus, reason: reason, detail, delivery: .response(destination))
    }
}

/// Where and how a Response goes back.
public struct ResponseDestination: Sendable, Hashable, Codable {
    public let serviceProvider: String
    public let assertionConsumerServiceURL: String
    public let inResponseTo: String
    public let relayState: String?

    public init(serviceProvider: String, assertionConsumerServiceURL: String, inResponseTo: String, relayState: String?) {
        self.serviceProvider = serviceProvider
        self.assertionConsumerServiceURL = assertionConsumerServiceURL
        self.inResponseTo = inResponseTo
        self.relayState = relayState
    }
}
