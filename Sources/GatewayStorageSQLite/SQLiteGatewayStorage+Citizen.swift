import Foundation
import GatewayStorage
import GRDB

// The card decision and the citizen as columns (schema step 8).
extension SQLiteGatewayStorage {
    static let cardColumns = ["card_fingerprint", "card_decided_at", "card_refusal", "card_level", "card_session_id"] + StorageMigrations.citizenColumns

    static func citizenValues(_ c: CitizenRecord?) -> [(any DatabaseValueConvertible)?] {
        [c?.fiscalNumber, c?.codiceFiscale, c?.name, c?.familyName, c?.dateOfBirth, c?.gender, c?.birthPlace, c?.birthPlaceName, c?.birthProvince, c?.cardID]
    }

    static func cardValues(_ card: CardOutcomeRecord?) -> [(any DatabaseValueConvertible)?] {
        [card?.certificateFingerprint, card?.decidedAt.storageMilliseconds, card?.refusal, card?.level, card?.sessionID] + citizenValues(card?.citizen)
    }

    /// The citizen of a row, when it has one.
    static func citizen(_ row: Row) -> CitizenRecord? {
        guard let fiscalNumber: String = row["citizen_fiscal_number"], let codiceFiscale: String = row["citizen_codice_fiscale"],
              let dateOfBirth: String = row["citizen_date_of_birth"], let gender: String = row["citizen_gender"],
              let birthPlace: String = row["citizen_birth_place"] else { return nil }
        return CitizenRecord(fiscalNumber: fiscalNumber, codiceFiscale: codiceFiscale, name: row["citizen_name"], familyName: row["citizen_family_name"],
                             dateOfBirth: dateOfBirth, gender: gender, birthPlace: birthPlace, birthPlaceName: row["citizen_birth_place_name"],
                             birthProvince: row["citizen_birth_province"], cardID: row["citizen_card_id"])
    }

    static func card(_ row: Row) -> CardOutcomeRecord? {
        guard let fingerprint: String = row["card_fingerprint"], let decidedAt: Int64 = row["card_decided_at"] else { return nil }
        return CardOutcomeRecord(certificateFingerprint: fingerprint, decidedAt: Date(storageMilliseconds: decidedAt), refusal: row["card_refusal"],
                                 level: row["card_level"], citizen: citizen(row), sessionID: row["card_session_id"])
    }
}
