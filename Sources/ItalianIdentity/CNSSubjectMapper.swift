/// Why a certificate subject does not name a citizen.
public struct IdentityError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        case missingCommonName = "missing_common_name"
        case missingSeparator = "missing_separator"
        case invalidCodiceFiscale = "invalid_codice_fiscale"
        case conflictingCodiceFiscale = "conflicting_codice_fiscale"
    }

    public let code: Code
    /// The codice fiscale rule that failed, when `code` is `invalidCodiceFiscale`.
    public let codiceFiscaleError: CodiceFiscaleError?
    public let detail: String

    public var description: String { detail }
}

/// One attribute of a distinguished name: dotted OID and UTF-8 value.
public struct SubjectAttribute: Sendable, Hashable {
    public let oid: String
    public let value: String
    public init(oid: String, value: String) {
        self.oid = oid
        self.value = value
    }

    public static let commonName = "2.5.4.3"
    public static let surname = "2.5.4.4"
    public static let serialNumber = "2.5.4.5"
    public static let givenName = "2.5.4.42"
}

/// Maps the subject of a CNS authentication certificate to a ``CitizenIdentity`` (DOMAIN.md §1.2, §1.5).
///
/// Accepted forms, in order:
/// 1. CN `<CF>/<card id>.<hash>` (TS-CNS), or `<CF>/<card id>`; the CN is split at its first `/`, since the base64
///    hash may itself contain `/`.
/// 2. No `/` in the CN, but a subject `serialNumber` of `TINIT-<CF>` (the ETSI EN 319 412-1 form used by CIE and by
///    some CNS-like certificates).
/// When both forms are present they must name the same code.
public struct CNSSubjectMapper: Sendable {
    public let registry: BelfioreRegistry?

    public init(registry: BelfioreRegistry?) {
        self.registry = registry
    }

    public func identity(from subject: [SubjectAttribute], referenceDate: CalendarDate) -> Result<CitizenIdentity, IdentityError> {
        let cn = subject.last { $0.oid == SubjectAttribute.commonName }?.value
        let serial = subject.first { $0.oid == SubjectAttribute.serialNumber }?.value
        let tinSerial = serial.flatMap { s -> String? in
            let upper = s.uppercased()
            return upper.hasPrefix("TINIT-") ? String(s.dropFirst(6)) : nil
        }
        var candidate: String
        var cardId: String?
        if let cn, let slash = cn.firstIndex(of: "/") {
            candidate = String(cn[..<slash])
            let rest = cn[cn.index(after: slash)...]
            let id = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            cardId = id.isEmpty ? nil : id
        } else if let tinSerial {
            candidate = tinSerial
        } else if let cn {
            return .failure(IdentityError(code: .missingSeparator, codiceFiscaleError: nil,
                detail: "The certificate's common name '\(cn)' has no '/' separating the codice fiscale from the card id, and no TINIT- serial number: it is not a CNS authentication certificate."))
        } else {
            return .failure(IdentityError(code: .missingCommonName, codiceFiscaleError: nil,
                detail: "The certificate's subject has no common name, so it carries no codice fiscale."))
        }
        candidate = candidate.trimmingWhitespace()
        switch CodiceFiscale.parse(candidate, referenceDate: referenceDate, registry: registry) {
        case .failure(let error):
            return .failure(IdentityError(code: .invalidCodiceFiscale, codiceFiscaleError: error,
                detail: "The codice fiscale in the certificate is not valid: \(error.detail)"))
        case .success(let cf):
            if let tinSerial, tinSerial.uppercased() != cf.code {
                return .failure(IdentityError(code: .conflictingCodiceFiscale, codiceFiscaleError: nil,
                    detail: "The common name names codice fiscale \(cf.code) but the serial number names \(tinSerial.uppercased())."))
            }
            let place = registry.flatMap { $0.place(code: cf.belfioreCode, on: cf.dateOfBirth) ?? $0.latestPlace(code: cf.belfioreCode) }
            func attribute(_ oid: String) -> String? {
                subject.first { $0.oid == oid }.map { $0.value.trimmingWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
            }
            return .success(CitizenIdentity(codiceFiscale: cf, name: attribute(SubjectAttribute.givenName),
                                            familyName: attribute(SubjectAttribute.surname), place: place, cardId: cardId))
        }
    }
}
