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

    // Rows are read by index from fixed column lists (GRDB's lookup by name lowercases every name, for each of
    // these rows' thirty columns, several times per login).

    /// The citizen whose ``StorageMigrations/citizenColumns`` start at `at`, when the row has one.
    static func citizen(_ row: Row, at i: Int) -> CitizenRecord? {
        guard let fiscalNumber: String = row[i], let codiceFiscale: String = row[i + 1], let dateOfBirth: String = row[i + 4],
              let gender: String = row[i + 5], let birthPlace: String = row[i + 6] else { return nil }
        return CitizenRecord(fiscalNumber: fiscalNumber, codiceFiscale: codiceFiscale, name: row[i + 2], familyName: row[i + 3], dateOfBirth: dateOfBirth,
                             gender: gender, birthPlace: birthPlace, birthPlaceName: row[i + 7], birthProvince: row[i + 8], cardID: row[i + 9])
    }

    /// The card decision whose ``cardColumns`` start at `at`.
    static func card(_ row: Row, at i: Int) -> CardOutcomeRecord? {
        guard let fingerprint: String = row[i], let decidedAt: Int64 = row[i + 1] else { return nil }
        return CardOutcomeRecord(certificateFingerprint: fingerprint, decidedAt: Date(storageMilliseconds: decidedAt), refusal: row[i + 2],
                                 level: row[i + 3], citizen: citizen(row, at: i + 5), sessionID: row[i + 4])
    }
}
