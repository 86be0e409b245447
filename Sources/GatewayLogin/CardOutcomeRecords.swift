import GatewayStorage
import ItalianIdentity
import LoginOutcome

// The login's typed values and the storage records that hold them, column for column.

extension CardOutcomeRecord {
    init(_ d: CardDecision) {
        self.init(certificateFingerprint: d.certificateFingerprint, decidedAt: d.decidedAt, refusal: d.refusal, level: d.level?.rawValue,
                  citizen: d.citizen.map(CitizenRecord.init), sessionID: d.sessionID)
    }
}

extension CardDecision {
    /// A stored decision; a level this version does not know reads as none (the login then cannot complete).
    init(_ r: CardOutcomeRecord) {
        self.init(certificateFingerprint: r.certificateFingerprint, decidedAt: r.decidedAt, refusal: r.refusal, level: r.level.flatMap(SpidLevel.init(rawValue:)),
                  citizen: r.citizen.map(AuthenticatedCitizen.init), sessionID: r.sessionID)
    }
}

extension CitizenRecord {
    init(_ c: AuthenticatedCitizen) {
        self.init(fiscalNumber: c.fiscalNumber, codiceFiscale: c.codiceFiscale, name: c.name, familyName: c.familyName, dateOfBirth: c.dateOfBirth,
                  gender: c.gender, birthPlace: c.placeOfBirth.code, birthPlaceName: c.placeOfBirth.name, birthProvince: c.placeOfBirth.province,
                  cardID: c.cardId)
    }
}

extension AuthenticatedCitizen {
    init(_ r: CitizenRecord) {
        self.init(fiscalNumber: r.fiscalNumber, codiceFiscale: r.codiceFiscale, name: r.name, familyName: r.familyName, dateOfBirth: r.dateOfBirth,
                  gender: r.gender, placeOfBirth: CitizenIdentity.PlaceOfBirth(code: r.birthPlace, name: r.birthPlaceName, province: r.birthProvince),
                  cardId: r.cardID)
    }
}
