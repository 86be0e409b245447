/// The person a valid CNS certificate names, in the terms SPID and OIDC release them.
public struct CitizenIdentity: Sendable, Hashable, Codable {
    /// SPID `fiscalNumber`: `TINIT-<codice fiscale>`.
    public var fiscalNumber: String { "TINIT-\(codiceFiscale)" }
    /// The codice fiscale exactly as on the certificate (uppercased).
    public let codiceFiscale: String
    /// Given name from the subject's `givenName` (2.5.4.42), if present.
    public let name: String?
    /// Family name from the subject's `surname` (2.5.4.4), if present.
    public let familyName: String?
    public let dateOfBirth: CalendarDate
    public let gender: CodiceFiscale.Gender
    /// Where the codice fiscale says the person was born; the place name is absent when the code is unknown.
    public let placeOfBirth: PlaceOfBirth
    /// The card (token) serial from the CN, for audit; `nil` when the CN has none.
    public let cardId: String?

    /// Belfiore code plus, when the table knows it, name and province.
    public struct PlaceOfBirth: Sendable, Hashable, Codable {
        public let code: String
        public let name: String?
        public let province: String?

        public init(code: String, name: String?, province: String?) {
            self.code = code
            self.name = name
            self.province = province
        }
    }

    public init(codiceFiscale: CodiceFiscale, name: String?, familyName: String?, place: BirthPlace?, cardId: String?) {
        self.codiceFiscale = codiceFiscale.code
        self.name = name
        self.familyName = familyName
        self.dateOfBirth = codiceFiscale.dateOfBirth
        self.gender = codiceFiscale.gender
        self.placeOfBirth = PlaceOfBirth(code: codiceFiscale.belfioreCode, name: place?.name, province: place?.province)
        self.cardId = cardId
    }
}

extension CitizenIdentity {
    /// SPID: words with an initial capital (`MARIO ROSSI` → `Mario Rossi`; `D'ANGELO` → `D'Angelo`).
    public static func titleCased(_ s: String) -> String {
        var out = ""
        var startOfWord = true
        for c in s.lowercased() {
            out.append(startOfWord ? Character(c.uppercased()) : c)
            startOfWord = c == " " || c == "'" || c == "-"
        }
        return out.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
