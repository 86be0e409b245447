import Testing
@testable import ItalianIdentity

@Suite struct CNSSubjectMapperTests {
    let today = CalendarDate(year: 2026, month: 11, day: 30)!
    let registry = try! BelfioreRegistry.bundled()
    var mapper: CNSSubjectMapper { CNSSubjectMapper(registry: registry) }

    func subject(cn: String?, given: String? = "MARIO", surname: String? = "ROSSI", serial: String? = nil) -> [SubjectAttribute] {
        var attrs = [SubjectAttribute(oid: "2.5.4.6", value: "IT")]
        if let surname { attrs.append(.init(oid: SubjectAttribute.surname, value: surname)) }
        if let given { attrs.append(.init(oid: SubjectAttribute.givenName, value: given)) }
        if let serial { attrs.append(.init(oid: SubjectAttribute.serialNumber, value: serial)) }
        if let cn { attrs.append(.init(oid: SubjectAttribute.commonName, value: cn)) }
        return attrs
    }

    @Test("TS-CNS common name with a base64 hash containing '/'")
    func tsCNSCommonName() throws {
        let id = try mapper.identity(from: subject(cn: "RCCMNL83S18D969H/7430010024925855.lsKV/lNtBAmc8x5lzSb+cxx2UzE="),
                                     referenceDate: today).get()
        #expect(id.fiscalNumber == "TINIT-RCCMNL83S18D969H")
        #expect(id.cardId == "7430010024925855")
        #expect(id.name == "MARIO")
        #expect(id.familyName == "ROSSI")
        #expect(id.dateOfBirth.description == "1983-11-18")
        #expect(id.gender == .male)
        #expect(id.placeOfBirth == .init(code: "D969", name: "Genova", province: "GE"))
    }

    @Test("omocode and foreign birth place")
    func foreignPlace() throws {
        let code = CodiceFiscale.encode(surnameLetters: "SMT", nameLetters: "JHN", dateOfBirth: CalendarDate(year: 1975, month: 7, day: 4)!,
                                        gender: .male, belfioreCode: "Z404", omocodiaLevel: 2)!
        let id = try mapper.identity(from: subject(cn: "\(code)/6120016461039008.abc="), referenceDate: today).get()
        #expect(id.placeOfBirth.province == "EE")
        #expect(id.placeOfBirth.name == "Stati Uniti D'America")
        #expect(id.codiceFiscale == code)
    }

    @Test("TINIT serial number when the CN has no slash; conflicts refused")
    func serialNumberForm() throws {
        let ok = try mapper.identity(from: subject(cn: "ROSSI MARIO", serial: "TINIT-RCCMNL83S18D969H"), referenceDate: today).get()
        #expect(ok.codiceFiscale == "RCCMNL83S18D969H")
        #expect(ok.cardId == nil)
        let conflict = mapper.identity(from: subject(cn: "RCCMNL83S18D969H/123.x", serial: "TINIT-RCCMNL83S18D96VW"), referenceDate: today)
        #expect(throws: IdentityError.self) { try conflict.get() }
    }

    @Test("each bad subject gets its reason")
    func failures() {
        func code(_ attrs: [SubjectAttribute]) -> IdentityError.Code? {
            if case .failure(let e) = mapper.identity(from: attrs, referenceDate: today) { return e.code }
            return nil
        }
        #expect(code(subject(cn: nil)) == .missingCommonName)
        #expect(code(subject(cn: "RCCMNL83S18D969H")) == .missingSeparator)
        #expect(code(subject(cn: "RCCMNL83S18D969X/123.abc")) == .invalidCodiceFiscale)
        #expect(code(subject(cn: "RCCMNL 83S18D969H/123.abc")) == .invalidCodiceFiscale)
        #expect(code(subject(cn: "/123.abc")) == .invalidCodiceFiscale)
        // lowercase CN is normalised, not refused
        #expect(code(subject(cn: "rccmnl83s18d969h/123.abc")) == nil)
    }

    @Test("the bundled Belfiore table respects validity dates")
    func belfioreValidity() {
        #expect(registry.count > 9_000)
        #expect(registry.place(code: "H501", on: CalendarDate(year: 1980, month: 1, day: 1)!)?.name == "Roma")
        #expect(registry.place(code: "A001", on: CalendarDate(year: 1900, month: 1, day: 1)!)?.name == "Abano")
        #expect(registry.place(code: "A001", on: CalendarDate(year: 1990, month: 1, day: 1)!)?.name == "Abano Terme")
        #expect(registry.place(code: "H501", on: CalendarDate(year: 1800, month: 1, day: 1)!) == nil)
    }
}
