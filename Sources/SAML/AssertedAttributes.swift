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
    public static let certified = Set(CitizenAttribute.allCases.filter(\.isCertified).map(\.rawValue))
    /// Computed from the codice fiscale (not certified; released only where the SP's registration allows).
    public static let derived = Set(CitizenAttribute.allCases.filter { !$0.isCertified }.map(\.rawValue))
    public static var offered: [String] { (certified.union(derived)).sorted() }

    /// The SAML form of each attribute: its XML Schema type and, where one exists, its `urn:oid` name for `saml2` SPs.
    static let form: [CitizenAttribute: (type: String, oidName: String?)] = [
        .fiscalNumber: ("xs:string", nil), .name: ("xs:string", "urn:oid:2.5.4.42"), .familyName: ("xs:string", "urn:oid:2.5.4.4"),
        .dateOfBirth: ("xs:date", nil), .gender: ("xs:string", nil), .placeOfBirth: ("xs:string", nil), .countyOfBirth: ("xs:string", nil),
    ]

    /// The values for `requested` names, in the order asked; names the card cannot support are left out (never made up).
    public static func values(for requested: [String], identity: AuthenticatedCitizen, allowDerived: Bool) -> [Value] {
        var seen = Set<String>()
        return requested.compactMap { name -> Value? in
            guard seen.insert(name).inserted, let attribute = CitizenAttribute(rawValue: name), attribute.isCertified || allowDerived,
                  let value = attribute.value(of: identity), let form = form[attribute] else { return nil }
            return Value(name: name, value: value, type: form.type, oidName: form.oidName)
        }
    }
}
