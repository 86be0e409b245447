import ItalianIdentity

/// The citizen's attributes a CNS card supports, by their SPID names, and the value a service receives for each: the
/// one mapping from an authenticated citizen to released data, which SAML attributes, OIDC claims and the consent page
/// all use (so the page shows what the service gets).
public enum CitizenAttribute: String, Sendable, Hashable, CaseIterable {
    case fiscalNumber, name, familyName, dateOfBirth, gender, placeOfBirth, countyOfBirth

    /// Certified by the card's CA (the codice fiscale and the names in the certificate); the others are derived from
    /// the codice fiscale and released only where a registration allows.
    public var isCertified: Bool { [.fiscalNumber, .name, .familyName].contains(self) }

    /// The released value: names title-cased, the date as `YYYY-MM-DD`, gender `M`/`F`, the place of birth as its
    /// Belfiore code and the county as its province code; nil when the card does not carry it.
    public func value(of citizen: AuthenticatedCitizen) -> String? {
        switch self {
        case .fiscalNumber: citizen.fiscalNumber
        case .name: citizen.name.map(CitizenIdentity.titleCased)
        case .familyName: citizen.familyName.map(CitizenIdentity.titleCased)
        case .dateOfBirth: citizen.dateOfBirth
        case .gender: citizen.gender
        case .placeOfBirth: citizen.placeOfBirth.code
        case .countyOfBirth: citizen.placeOfBirth.province
        }
    }
}
