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
