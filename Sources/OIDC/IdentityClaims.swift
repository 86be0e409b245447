import ItalianIdentity
import Foundation
import LoginOutcome

/// The identity claims a CNS card supports, with the SPID/CIE names (DOMAIN.md §4) and the standard ones, and the
/// consent-page attribute each stands for (the names the shared login flow and its pages use).
public enum IdentityClaims {
    public static let fiscalNumber = "https://attributes.eid.gov.it/fiscal_number"

    /// Claim → shared attribute name (shown on the consent page).
    public static let attributeOfClaim: [String: String] = [
        fiscalNumber: "fiscalNumber",
        "given_name": "name",
        "family_name": "familyName",
        "birthdate": "dateOfBirth",
        "gender": "gender",
        "place_of_birth": "placeOfBirth",
    ]
    public static var supported: [String] { attributeOfClaim.keys.sorted() }
    /// What `scope=profile` stands for (OIDC Core §5.4), of the claims a card supports.
    public static let profileScope = ["family_name", "given_name", "birthdate", "gender"]
}

/// The values of the claims a citizen consented to release, one typed field per claim a card supports: what a grant
/// keeps (and storage stores as columns), so that nothing else about the citizen is kept.
public struct ReleasedClaims: Sendable, Hashable {
    public var fiscalNumber: String?
    public var givenName: String?
    public var familyName: String?
    /// `YYYY-MM-DD`.
    public var birthdate: String?
    /// `female` or `male`.
    public var gender: String?
    /// Belfiore code and province of the place of birth (`place_of_birth.locality`, `.region`).
    public var birthPlace: String?
    public var birthProvince: String?

    public init(fiscalNumber: String? = nil, givenName: String? = nil, familyName: String? = nil, birthdate: String? = nil, gender: String? = nil,
                birthPlace: String? = nil, birthProvince: String? = nil) {
        self.fiscalNumber = fiscalNumber
        self.givenName = givenName
        self.familyName = familyName
        self.birthdate = birthdate
        self.gender = gender
        self.birthPlace = birthPlace
        self.birthProvince = birthProvince
    }

    /// The values of `claims` for `identity`, through the shared ``CitizenAttribute`` mapping (what SAML and the consent
    /// page release); OIDC spells gender `female`/`male`.
    public init(_ claims: [String], identity: AuthenticatedCitizen) {
        let asked = Set(claims.compactMap { IdentityClaims.attributeOfClaim[$0].flatMap(CitizenAttribute.init(rawValue:)) })
        func value(_ attribute: CitizenAttribute) -> String? { asked.contains(attribute) ? attribute.value(of: identity) : nil }
        fiscalNumber = value(.fiscalNumber)
        givenName = value(.name)
        familyName = value(.familyName)
        birthdate = value(.dateOfBirth)
        gender = value(.gender).map { $0 == "F" ? "female" : "male" }
        birthPlace = value(.placeOfBirth)
        birthProvince = asked.contains(.placeOfBirth) ? CitizenAttribute.countyOfBirth.value(of: identity) : nil
    }

    /// The claims of `claims` that have a value, as JSON.
    public func values(_ claims: [String]) -> JSONObject {
        var out: JSONObject = [:]
        for claim in claims {
            switch claim {
            case IdentityClaims.fiscalNumber: if let fiscalNumber { out[claim] = .string(fiscalNumber) }
            case "given_name": if let givenName { out[claim] = .string(givenName) }
            case "family_name": if let familyName { out[claim] = .string(familyName) }
            case "birthdate": if let birthdate { out[claim] = .string(birthdate) }
            case "gender": if let gender { out[claim] = .string(gender) }
            case "place_of_birth":
                guard let birthPlace else { continue }
                var place: JSONObject = ["locality": .string(birthPlace)]
                if let birthProvince { place["region"] = .string(birthProvince) }
                out[claim] = .object(place)
            default: continue
            }
        }
        return out
    }
}
