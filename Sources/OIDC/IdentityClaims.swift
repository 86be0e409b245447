import CNSValidation
import ItalianIdentity
import Foundation

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

    /// The values of `claims` a card supports, for one identity; claims the card cannot support are left out.
    public static func values(_ claims: [String], identity: VerificationReport.Identity) -> JSONObject {
        var out: JSONObject = [:]
        for claim in claims {
            switch claim {
            case fiscalNumber: out[claim] = .string(identity.fiscalNumber)
            case "given_name": if let n = identity.name { out[claim] = .string(CitizenIdentity.titleCased(n)) }
            case "family_name": if let n = identity.familyName { out[claim] = .string(CitizenIdentity.titleCased(n)) }
            case "birthdate": out[claim] = .string(identity.dateOfBirth)
            case "gender": out[claim] = .string(identity.gender == "F" ? "female" : "male")
            case "place_of_birth":
                var place: JSONObject = ["locality": .string(identity.placeOfBirth.code)]
                if let province = identity.placeOfBirth.province { place["region"] = .string(province) }
                out[claim] = .object(place)
            default: break
            }
        }
        return out
    }
}
