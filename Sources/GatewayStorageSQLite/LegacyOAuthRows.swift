import Foundation
import GatewayStorage
import GRDB

/// Carries the OIDC rows schema steps 1–3 kept as JSON in `one_time_code` (grants, codes, refresh tokens, session
/// identifiers) into the typed tables of step 4, inside the migration's transaction, so that codes, refresh tokens
/// and `sid`s issued before an upgrade keep working after it. A row that cannot be read is dropped (its token then
/// fails as unknown, which is what an expired one does).
enum LegacyOAuthRows {
    /// The grant JSON the previous versions wrote (`OIDC.AuthorizationGrant` with claim values; default date coding).
    struct Grant: Decodable {
        let grantID: String
        let clientID: String
        let redirectURI: String
        let codeChallenge: String?
        let nonce: String?
        let scopes: [String]
        let level: String
        let authTime: Date
        let subject: String
        let sessionID: String?
        let expiresAt: Date
    }

    static func carryForward(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM one_time_code WHERE namespace IN ('oidc-grant', 'oidc-code', 'oidc-refresh', 'oidc-sid')")
        for row in rows {
            let namespace: String = row["namespace"]
            let id: String = row["id"]
            let payload: Data = row["payload"]
            let expiresAt: Int64 = row["expires_at"]
            let consumedAt: Int64? = row["consumed_at"]
            if namespace == "oidc-sid" {
                try db.execute(sql: "INSERT INTO oidc_session_identifier (sid, session_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [id, String(decoding: payload, as: UTF8.self), expiresAt])
                continue
            }
            guard let grant = try? JSONDecoder().decode(Grant.self, from: payload) else { continue }
            if namespace == "oidc-grant" {
                let object = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any]
                let (userinfo, userinfoValues) = claims(object, "userinfoClaims")
                let (idToken, idTokenValues) = claims(object, "idTokenClaims")
                let values = userinfoValues.merging(idTokenValues) { a, _ in a }
                let place = values["place_of_birth"] as? [String: Any]
                let record = OAuthGrantRecord(
                    id: grant.grantID, clientID: grant.clientID, redirectURI: grant.redirectURI, codeChallenge: grant.codeChallenge, nonce: grant.nonce,
                    scopes: grant.scopes, level: grant.level, authTime: grant.authTime, subject: grant.subject, sessionID: grant.sessionID,
                    userinfoClaims: userinfo, idTokenClaims: idToken,
                    released: ReleasedAttributes(fiscalNumber: values["https://attributes.eid.gov.it/fiscal_number"] as? String,
                                                 givenName: values["given_name"] as? String, familyName: values["family_name"] as? String,
                                                 birthdate: values["birthdate"] as? String, gender: values["gender"] as? String,
                                                 birthPlace: place?["locality"] as? String, birthProvince: place?["region"] as? String),
                    expiresAt: Date(storageMilliseconds: expiresAt), revokedAt: consumedAt.map(Date.init(storageMilliseconds:)))
                try db.execute(sql: SQLiteGatewayStorage.insertGrantSQL, arguments: SQLiteGatewayStorage.grantArguments(record))
            } else {
                let kind: OAuthTokenRecord.Kind = namespace == "oidc-code" ? .authorizationCode : .refreshToken
                try db.execute(sql: "INSERT INTO oauth_token (kind, id, grant_id, expires_at, spent_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [kind.rawValue, id, grant.grantID, expiresAt, consumedAt])
            }
        }
        try db.execute(sql: "DELETE FROM one_time_code WHERE namespace IN ('oidc-grant', 'oidc-code', 'oidc-refresh', 'oidc-sid')")
    }

    /// A claims object of the legacy JSON: its names (sorted) and values.
    static func claims(_ object: [String: Any]?, _ key: String) -> ([String], [String: Any]) {
        guard let claims = object?[key] as? [String: Any] else { return ([], [:]) }
        return (claims.keys.sorted(), claims)
    }
}
