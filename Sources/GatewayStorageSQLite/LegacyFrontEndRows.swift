import Foundation
import GatewayStorage
import GRDB

/// Carries what schema steps 1–4 kept as JSON in `one_time_code` for the front ends (the SAML and OIDC requests of
/// logins in progress, SAML NameIDs, SAML logouts in progress) into the typed tables of step 5, inside the migration's
/// transaction, so that logins and logouts under way during an upgrade finish. A row that cannot be read is dropped
/// (its login then ends as an unknown one would).
enum LegacyFrontEndRows {
    /// `SAML.ResponseDestination` as the previous versions encoded it.
    struct Destination: Decodable {
        let serviceProvider: String
        let assertionConsumerServiceURL: String
        let inResponseTo: String
        let relayState: String?
    }

    /// `SAML.ValidatedAuthnRequest` (JSONEncoder defaults: dates as seconds since 2001).
    struct AuthnRequest: Decodable {
        let id: String
        let issuer: String
        let issueInstant: Date
        let destination: Destination
        let level: String
        let comparison: String
        let forceAuthn: Bool
        let attributes: [String]
        let profile: String
    }

    /// `OIDC.ValidatedAuthorization`.
    struct Authorization: Decodable {
        let clientID: String
        let redirectURI: String
        let state: String?
        let nonce: String?
        let scopes: [String]
        let codeChallenge: String?
        let level: String
        let forceFresh: Bool
        let maxAge: Int?
        let userinfoClaims: [String]
        let idTokenClaims: [String]
        let uiLocale: String?
    }

    /// The SAML controller's `LogoutPropagation`.
    struct Logout: Decodable {
        struct Participant: Decodable {
            let session: String
            let serviceProvider: String
        }
        let original: Destination
        let remaining: [Participant]
        let failed: Bool
        let pendingRequestID: String?
        let pendingServiceProvider: String?
    }

    static func carryForward(_ db: Database) throws {
        let decoder = JSONDecoder()
        for row in try Row.fetchAll(db, sql: "SELECT * FROM one_time_code WHERE consumed_at IS NULL") {
            let namespace: String = row["namespace"], id: String = row["id"], payload: Data = row["payload"]
            let expiresAt = Date(storageMilliseconds: row["expires_at"])
            switch namespace {
            case "saml-login":
                guard let r = try? decoder.decode(AuthnRequest.self, from: payload) else { continue }
                try insert(db, "INSERT INTO saml_request (login_id, request_id, issuer, issue_instant, acs_url, relay_state, level, comparison, force_authn, attributes, profile, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [id, r.id, r.issuer, r.issueInstant.storageMilliseconds, r.destination.assertionConsumerServiceURL, r.destination.relayState,
                            r.level, r.comparison, r.forceAuthn, SQLiteGatewayStorage.join(r.attributes), r.profile, expiresAt.storageMilliseconds])
            case "oidc-login":
                guard let r = try? decoder.decode(Authorization.self, from: payload) else { continue }
                try insert(db, "INSERT INTO oidc_authorization (login_id, client_id, redirect_uri, state, nonce, scopes, code_challenge, level, force_fresh, max_age, userinfo_claims, id_token_claims, ui_locale, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [id, r.clientID, r.redirectURI, r.state, r.nonce, SQLiteGatewayStorage.join(r.scopes), r.codeChallenge, r.level, r.forceFresh,
                            r.maxAge, SQLiteGatewayStorage.join(r.userinfoClaims), SQLiteGatewayStorage.join(r.idTokenClaims), r.uiLocale,
                            expiresAt.storageMilliseconds])
            case "saml-session-nameid":
                let parts = id.split(separator: "\n", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                try insert(db, "INSERT INTO saml_name_id (session_id, service_provider, name_id, expires_at) VALUES (?, ?, ?, ?)",
                           [parts[0], parts[1], String(decoding: payload, as: UTF8.self), expiresAt.storageMilliseconds])
            case "saml-logout":
                guard let r = try? decoder.decode(Logout.self, from: payload) else { continue }
                try insert(db, "INSERT INTO saml_logout (id, requester, response_url, in_response_to, relay_state, remaining, failed, pending_request_id, pending_service_provider, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [id, r.original.serviceProvider, r.original.assertionConsumerServiceURL, r.original.inResponseTo, r.original.relayState,
                            SQLiteGatewayStorage.join(r.remaining.map { $0.session + "\t" + $0.serviceProvider }), r.failed, r.pendingRequestID,
                            r.pendingServiceProvider, expiresAt.storageMilliseconds])
            default:
                continue
            }
        }
    }

    static func insert(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws {
        try db.execute(sql: sql + " ON CONFLICT DO NOTHING", arguments: arguments)
    }
}
