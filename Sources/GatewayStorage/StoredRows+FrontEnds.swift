import Foundation

// The OAuth and front-end records as rows (see ``StoredRow``).

extension OAuthGrantRecord: StoredRow {
    public static let table = "oauth_grant"
    public static let columns = ["id", "client_id", "redirect_uri", "code_challenge", "nonce", "scopes", "level", "auth_time", "subject", "session_id",
                                 "userinfo_claims", "id_token_claims", "fiscal_number", "given_name", "family_name", "birthdate", "gender", "birth_place",
                                 "birth_province", "expires_at", "revoked_at"]
    public var values: [SQLValue] {
        let r = released
        return [.text(id), .text(clientID), .text(redirectURI), .text(codeChallenge), .text(nonce), .lines(scopes), .text(level), .instant(authTime),
                .text(subject), .text(sessionID), .lines(userinfoClaims), .lines(idTokenClaims), .text(r.fiscalNumber), .text(r.givenName),
                .text(r.familyName), .text(r.birthdate), .text(r.gender), .text(r.birthPlace), .text(r.birthProvince), .instant(expiresAt), .instant(revokedAt)]
    }
    public init(row: some SQLRowReading) throws {
        let released = ReleasedAttributes(fiscalNumber: try row.text(12), givenName: try row.text(13), familyName: try row.text(14), birthdate: try row.text(15),
                                          gender: try row.text(16), birthPlace: try row.text(17), birthProvince: try row.text(18))
        self.init(id: try row.requiredText(0), clientID: try row.requiredText(1), redirectURI: try row.requiredText(2), codeChallenge: try row.text(3),
                  nonce: try row.text(4), scopes: try row.lines(5), level: try row.requiredText(6), authTime: try row.instant(7), subject: try row.requiredText(8),
                  sessionID: try row.text(9), userinfoClaims: try row.lines(10), idTokenClaims: try row.lines(11), released: released,
                  expiresAt: try row.instant(19), revokedAt: try row.optionalInstant(20))
    }
}

extension OAuthTokenRecord: StoredRow {
    public static let table = "oauth_token"
    public static let columns = ["kind", "id", "grant_id", "expires_at", "spent_at"]
    public var values: [SQLValue] { [.text(kind.rawValue), .text(id), .text(grantID), .instant(expiresAt), .instant(spentAt)] }
    public init(row: some SQLRowReading) throws {
        guard let kind = Kind(rawValue: try row.requiredText(0)) else { throw StorageError(.corrupted, "an OAuth token of an unknown kind") }
        self.init(kind: kind, id: try row.requiredText(1), grantID: try row.requiredText(2), expiresAt: try row.instant(3), spentAt: try row.optionalInstant(4))
    }
}

extension SAMLRequestRecord: StoredRow {
    public static let table = "saml_request"
    public static let columns = ["login_id", "request_id", "issuer", "issue_instant", "acs_url", "relay_state", "level", "comparison", "force_authn",
                                 "attributes", "profile", "expires_at"]
    public var values: [SQLValue] {
        [.text(loginID), .text(requestID), .text(issuer), .instant(issueInstant), .text(assertionConsumerServiceURL), .text(relayState), .text(level),
         .text(comparison), .boolean(forceAuthn), .lines(attributes), .text(profile), .instant(expiresAt)]
    }
    public init(row: some SQLRowReading) throws {
        self.init(loginID: try row.requiredText(0), requestID: try row.requiredText(1), issuer: try row.requiredText(2), issueInstant: try row.instant(3),
                  assertionConsumerServiceURL: try row.requiredText(4), relayState: try row.text(5), level: try row.requiredText(6),
                  comparison: try row.requiredText(7), forceAuthn: try row.requiredBoolean(8), attributes: try row.lines(9), profile: try row.requiredText(10),
                  expiresAt: try row.instant(11))
    }
}

extension OIDCAuthorizationRecord: StoredRow {
    public static let table = "oidc_authorization"
    public static let columns = ["login_id", "client_id", "redirect_uri", "state", "nonce", "scopes", "code_challenge", "level", "force_fresh", "max_age",
                                 "userinfo_claims", "id_token_claims", "ui_locale", "expires_at"]
    public var values: [SQLValue] {
        [.text(loginID), .text(clientID), .text(redirectURI), .text(state), .text(nonce), .lines(scopes), .text(codeChallenge), .text(level),
         .boolean(forceFresh), .integer(maxAge.map(Int64.init)), .lines(userinfoClaims), .lines(idTokenClaims), .text(uiLocale), .instant(expiresAt)]
    }
    public init(row: some SQLRowReading) throws {
        self.init(loginID: try row.requiredText(0), clientID: try row.requiredText(1), redirectURI: try row.requiredText(2), state: try row.text(3),
                  nonce: try row.text(4), scopes: try row.lines(5), codeChallenge: try row.text(6), level: try row.requiredText(7),
                  forceFresh: try row.requiredBoolean(8), maxAge: try row.integer(9).map(Int.init), userinfoClaims: try row.lines(10),
                  idTokenClaims: try row.lines(11), uiLocale: try row.text(12), expiresAt: try row.instant(13))
    }
}

extension SAMLNameIDRecord: StoredRow {
    public static let table = "saml_name_id"
    public static let columns = ["session_id", "service_provider", "name_id", "expires_at"]
    public var values: [SQLValue] { [.text(sessionID), .text(serviceProvider), .text(nameID), .instant(expiresAt)] }
    public init(row: some SQLRowReading) throws {
        self.init(sessionID: try row.requiredText(0), serviceProvider: try row.requiredText(1), nameID: try row.requiredText(2), expiresAt: try row.instant(3))
    }
}

extension SAMLLogoutRecord: StoredRow {
    public static let table = "saml_logout"
    public static let columns = ["id", "requester", "response_url", "in_response_to", "relay_state", "remaining", "failed", "pending_request_id",
                                 "pending_service_provider", "expires_at"]
    public var values: [SQLValue] {
        [.text(id), .text(requester), .text(responseURL), .text(inResponseTo), .text(relayState),
         .lines(remaining.map { $0.sessionID + "\t" + $0.serviceProvider }), .boolean(failed), .text(pendingRequestID), .text(pendingServiceProvider),
         .instant(expiresAt)]
    }
    public init(row: some SQLRowReading) throws {
        let remaining = try row.lines(5).compactMap { line -> Participant? in
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return parts.count == 2 ? Participant(sessionID: parts[0], serviceProvider: parts[1]) : nil
        }
        self.init(id: try row.requiredText(0), requester: try row.requiredText(1), responseURL: try row.requiredText(2), inResponseTo: try row.requiredText(3),
                  relayState: try row.text(4), remaining: remaining, failed: try row.requiredBoolean(6), pendingRequestID: try row.text(7),
                  pendingServiceProvider: try row.text(8), expiresAt: try row.instant(9))
    }
}
