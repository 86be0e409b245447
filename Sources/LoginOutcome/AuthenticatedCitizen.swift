import ItalianIdentity

/// The citizen a card identified, as the front ends release it (and as `cnsgw verify --json` prints it).
public struct AuthenticatedCitizen: Sendable, Codable, Hashable {
    /// `TINIT-` and the codice fiscale (the SPID `fiscalNumber`).
    public let fiscalNumber: String
    public let codiceFiscale: String
    public let name: String?
    public let familyName: String?
    /// `YYYY-MM-DD`.
    public let dateOfBirth: String
    /// `M` or `F`.
    public let gender: String
    public let placeOfBirth: CitizenIdentity.PlaceOfBirth
    public let cardId: String?

    public init(fiscalNumber: String, codiceFiscale: String, name: String?, familyName: String?, dateOfBirth: String, gender: String,
                placeOfBirth: CitizenIdentity.PlaceOfBirth, cardId: String?) {
        self.fiscalNumber = fiscalNumber
        self.codiceFiscale = codiceFiscale
        self.name = name
        self.familyName = familyName
        self.dateOfBirth = dateOfBirth
        self.gender = gender
        self.placeOfBirth = placeOfBirth
        self.cardId = cardId
    }

    public init(_ c: CitizenIdentity) {
        fiscalNumber = c.fiscalNumber
        codiceFiscale = c.codiceFiscale
        name = c.name
        familyName = c.familyName
        dateOfBirth = c.dateOfBirth.description
        gender = c.gender.rawValue
        placeOfBirth = c.placeOfBirth
        cardId = c.cardId
    }
}
