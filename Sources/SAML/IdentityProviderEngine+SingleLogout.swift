import Foundation

/// SP-initiated single logout (DOMAIN.md §3.6): the sessions named by SessionIndex end; OIDC participants are told over
/// their back channel by ``SingleLogoutSessions``; the other services of the session are sent LogoutRequests in turn
/// over the front channel, and the requester gets the final LogoutResponse (PartialLogout when any could not be told,
/// or a named session no longer exists).
extension IdentityProviderEngine {
    public func singleLogout(_ message: IncomingMessage, auditFields: [String: String], now: Date) async throws -> SAMLAnswer {
        let directory = try await serviceProviders()
        let validator = AuthnRequestValidator(idp: idp) { directory[$0] }
        if message.parameter == "SAMLResponse" { return try await logoutAnswered(message, validator: validator, now: now) }
        let logout: ValidatedLogoutRequest
        do { logout = try validator.validateLogout(message, now: now) } catch { return try await refusal(error, now: now, logout: true) }
        guard try await store.rememberOnce(.logoutRequest, key: logout.issuer + "\n" + logout.id, now: now,
                                           expiresAt: now + idp.maximumRequestAge + 2 * idp.clockSkew) else {
            return try await refusal(SAMLRequestError(11, reason: "replay", "the LogoutRequest ID \(logout.id) was already used"), now: now, logout: true)
        }
        var partial = false
        var ended: [String] = [], told: [String] = []
        var others: [LogoutPropagation.Participant] = []
        for index in logout.sessionIndexes {
            guard let session = try await sessions.endSession(index, requester: logout.issuer, now: now) else {
                partial = true   // expired, or not a session this service took part in
                continue
            }
            if !session.backChannelComplete { partial = true }
            told += session.toldByBackChannel
            others += session.frontChannel.map { LogoutPropagation.Participant(session: index, serviceProvider: $0) }
            ended.append(index)
        }
        try await store.audit(auditFields.merging(["result": "logout", "requester": logout.issuer, "request": logout.id,
                                                   "sessions": ended.joined(separator: ","), "others": others.map(\.serviceProvider).joined(separator: ","),
                                                   "backchannel": told.joined(separator: ",")]) { _, own in own })
        return try await propagate(LogoutPropagation(original: logout.destination, remaining: others, failed: partial), directory: directory, now: now)
    }

    /// Sends the next LogoutRequest, or the final LogoutResponse (PartialLogout if any service could not be told).
    func propagate(_ state: LogoutPropagation, directory: [String: ServiceProvider], now: Date) async throws -> SAMLAnswer {
        var state = state
        let builder = ResponseBuilder(idp: idp, key: try await signingKey(), makeID: newID)
        while let next = state.remaining.first {
            state.remaining.removeFirst()
            guard let (_, metadata) = directory[next.serviceProvider],
                  let slo = metadata.singleLogoutServices.first(where: { $0.binding == SAMLNames.postBinding }),
                  let nameID = try await store.takeNameID(session: next.session, serviceProvider: next.serviceProvider, now: now) else {
                state.failed = true   // unknown now, no HTTP-POST logout endpoint, or no NameID on record: cannot be told
                try await store.audit(["result": "logout_unreachable", "requester": next.serviceProvider])
                continue
            }
            let requestID = newID()
            state.pendingRequestID = requestID
            state.pendingServiceProvider = next.serviceProvider
            let stateID = newID()
            try await store.storeLogout(state, id: stateID, expiresAt: now + 600)
            let xml = try builder.logoutRequest(id: requestID, nameID: nameID, sessionIndex: next.session, to: next.serviceProvider,
                                                location: slo.location, now: now)
            try await store.audit(["result": "logout_request_sent", "requester": next.serviceProvider, "request": requestID])
            return .post(PostedMessage(xml: xml, destination: ResponseDestination(serviceProvider: next.serviceProvider, assertionConsumerServiceURL: slo.location,
                                                                                  inResponseTo: "", relayState: stateID), parameter: "SAMLRequest"))
        }
        let xml = try builder.logoutResponse(status: state.failed ? SAMLNames.Status.requester : SAMLNames.Status.success,
                                             subStatus: state.failed ? SAMLNames.Status.partialLogout : nil, to: state.original, now: now)
        try await store.audit(["result": state.failed ? "logout_partial" : "logout_complete", "requester": state.original.serviceProvider,
                               "request": state.original.inResponseTo])
        return .post(PostedMessage(xml: xml, destination: state.original, parameter: "SAMLResponse"))
    }

    /// A service's LogoutResponse to the gateway's LogoutRequest: record how it went and go on.
    func logoutAnswered(_ message: IncomingMessage, validator: AuthnRequestValidator, now: Date) async throws -> SAMLAnswer {
        guard let stateID = message.relayState, var state = try await store.takeLogout(id: stateID, now: now) else {
            return try await refusal(SAMLRequestError(8, reason: "logout_state", "this LogoutResponse answers no logout in progress"), now: now, logout: true)
        }
        switch Result(catching: { () throws(SAMLRequestError) in try validator.validateLogoutResponse(message, now: now) }) {
        case .success(let answer):
            if answer.issuer != state.pendingServiceProvider || answer.inResponseTo != state.pendingRequestID || !answer.success { state.failed = true }
            try await store.audit(["result": answer.success ? "logout_confirmed" : "logout_failed", "requester": answer.issuer, "request": answer.inResponseTo])
        case .failure(let error):
            state.failed = true
            try await store.audit(["result": "logout_answer_refused", "reason": error.reason, "detail": error.detail])
        }
        return try await propagate(state, directory: try await serviceProviders(), now: now)
    }
}
