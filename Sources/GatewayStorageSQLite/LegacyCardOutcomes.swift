import Foundation
import GatewayStorage
import GRDB

/// Carries the card decisions that schema steps 1–7 kept as JSON (`GatewayLogin.CardOutcome` around the whole
/// `VerificationReport`) into the columns of step 8: pending logins keep their decision, sessions their citizen. A
/// session whose JSON cannot be read is ended (its citizen logs in with the card again); a pending login with such a
/// decision loses it and ends as abandoned.
enum LegacyCardOutcomes {
    struct Place: Decodable {
        let code: String
        let name: String?
        let province: String?
    }

    struct Identity: Decodable {
        let fiscalNumber: String
        let codiceFiscale: String
        let name: String?
        let familyName: String?
        let dateOfBirth: String
        let gender: String
        let placeOfBirth: Place
        let cardId: String?
    }

    struct Report: Decodable {
        let valid: Bool
        let reason: String?
        let level: String?
        let identity: Identity?
        let validationTime: Date
    }

    struct Outcome: Decodable {
        let report: Report
        let certificateFingerprint: String
        let sessionID: String?
    }

    static func citizen(_ i: Identity?) -> CitizenRecord? {
        i.map { CitizenRecord(fiscalNumber: $0.fiscalNumber, codiceFiscale: $0.codiceFiscale, name: $0.name, familyName: $0.familyName,
                              dateOfBirth: $0.dateOfBirth, gender: $0.gender, birthPlace: $0.placeOfBirth.code, birthPlaceName: $0.placeOfBirth.name,
                              birthProvince: $0.placeOfBirth.province, cardID: $0.cardId) }
    }

    static func carryForward(_ db: Database) throws {
        let decoder = JSONDecoder()
        for row in try Row.fetchAll(db, sql: "SELECT id, outcome FROM pending_login WHERE outcome IS NOT NULL") {
            let id: String = row["id"], json: Data = row["outcome"]
            guard let o = try? decoder.decode(Outcome.self, from: json) else { continue }
            let card = CardOutcomeRecord(certificateFingerprint: o.certificateFingerprint, decidedAt: o.report.validationTime,
                                         refusal: o.report.valid ? nil : (o.report.reason ?? "untrusted"), level: o.report.level,
                                         citizen: citizen(o.report.identity), sessionID: o.sessionID)
            try db.execute(sql: "UPDATE pending_login SET \(SQLText.assignments(SQLiteGatewayStorage.cardColumns)) WHERE id = ?",
                           arguments: StatementArguments(SQLiteGatewayStorage.cardValues(card) + [id]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, outcome FROM sso_session") {
            let id: String = row["id"], json: Data = row["outcome"]
            guard let citizen = citizen((try? decoder.decode(Outcome.self, from: json))?.report.identity) else {
                try db.execute(sql: "DELETE FROM sso_session WHERE id = ?", arguments: [id])
                continue
            }
            try db.execute(sql: "UPDATE sso_session SET \(SQLText.assignments(StorageMigrations.citizenColumns)) WHERE id = ?",
                           arguments: StatementArguments(SQLiteGatewayStorage.citizenValues(citizen) + [id]))
        }
    }
}
