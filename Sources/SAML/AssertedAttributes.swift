import ItalianIdentity
import LoginOutcome

/// The SPID attributes a CNS card can support, as SAML attribute values (DOMAIN.md §3.3).
public enum AssertedAttributes {
    public struct Value: Sendable, Hashable {
        public let name: String
        public let value: String
        /// `xs:string` or `xs:date`.
        public let type: String
        /// The `urn:oid` name for `saml2` SPs, where one exists.
        public let oidName: String?
    }

    /// Certified by the CA: the codice fiscale, and the names in the certificate.
    public static let certified: Set<String> = ["fiscalNumber", "name", "familyName"]
    /// Computed from the codice fiscale (not certified; released only where the SP's registration allows).
    public static let derived: Set<String> = ["dateOfBirth", "gender", "placeOfBirth", "countyOfBirth"]
    public static var offered: [String] { (certified.union(derived)).sorted() }

    /// The values for `requested` names, in the order asked; names the card cannot support are left out (never made up).
    public static func values(for requested: [String], identity: AuthenticatedCitizen, allowDerived: Bool) -> [Value] {
        var seen = Set<String>()
        return requested.compactMap { name -> Value? in
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "fiscalNumber": return Value(name: name, value: identity.fiscalNumber, type: "xs:string", oidName: nil)
            case "name": return identity.name.map { Value(name: name, value: CitizenIdentity.titleCased($0), type: "xs:string", oidName: "urn:oid:2.5.4.42") }
            case "familyName": return identity.familyName.map { Value(name: name, value: CitizenIdentity.titleCased($0), type: "xs:string", oidName: "urn:oid:2.5.4.4") }
            case "dateOfBirth" where allowDerived: return Value(name: name, value: identity.dateOfBirth, type: "xs:date", oidName: nil)
            case "gender" where allowDerived: return Value(name: name, value: identity.gender, type: "xs:string", oidName: nil)
            case "placeOfBirth" where allowDerived: return Value(name: name, value: identity.placeOfBirth.code, type: "xs:string", oidName: nil)
            case "countyOfBirth" where allowDerived:
                return identity.placeOfBirth.province.map { Value(name: name, value: $0, type: "xs:string", oidName: nil) }
            default: return nil
            }
        }
    }
}
