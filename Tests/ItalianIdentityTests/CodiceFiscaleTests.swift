import Testing
@testable import ItalianIdentity

@Suite struct CodiceFiscaleTests {
    let today = CalendarDate(year: 2026, month: 11, day: 30)!

    @Test("check character of the DOMAIN.md §2.2 vector")
    func checkCharacterVector() {
        #expect(CodiceFiscale.checkCharacter(for: "RCCMNL83S18D969") == "H")
    }

    @Test("decodes the reference code and every omocodia level of DOMAIN.md §2.3")
    func omocodiaVectors() throws {
        let vectors = ["RCCMNL83S18D969H", "RCCMNL83S18D96VW", "RCCMNL83S18D9SVI", "RCCMNL83S18DVSVX",
                       "RCCMNL83S1UDVSVU", "RCCMNL83SMUDVSVF", "RCCMNL8PSMUDVSVR", "RCCMNLUPSMUDVSVO"]
        for (level, code) in vectors.enumerated() {
            let cf = try CodiceFiscale.parse(code, referenceDate: today).get()
            #expect(cf.omocodiaLevel == level)
            #expect(cf.baseCode == "RCCMNL83S18D969H")
            #expect(cf.dateOfBirth == CalendarDate(year: 1983, month: 11, day: 18))
            #expect(cf.gender == .male)
            #expect(cf.belfioreCode == "D969")
            #expect(CodiceFiscale.omocode("RCCMNL83S18D969H", level: level) == code)
        }
    }

    @Test("women have day + 40; lowercase and surrounding spaces are normalised")
    func femaleAndNormalisation() throws {
        let code = try #require(CodiceFiscale.encode(surnameLetters: "BNC", nameLetters: "LRA",
            dateOfBirth: CalendarDate(year: 1990, month: 2, day: 28)!, gender: .female, belfioreCode: "H501"))
        let cf = try CodiceFiscale.parse("  \(code.lowercased()) ", referenceDate: today).get()
        #expect(cf.gender == .female)
        #expect(cf.dateOfBirth.description == "1990-02-28")
        #expect(cf.code == code)
    }

    @Test("each malformed input gets its own reason")
    func specificReasons() {
        let cases: [(String, CodiceFiscaleError.Code)] = [
            ("", .empty), ("   ", .empty),
            ("RCCMNL83S18 D969H", .containsSpaces),
            ("RCCMNL83S18D969-", .invalidCharacters), ("RCCMNL83S18D96ÈH", .invalidCharacters),
            ("RCCMNL83S18D969", .wrongLength), ("RCCMNL83S18D969HX", .wrongLength),
            ("00743110157", .numericCode),
            ("1CCMNL83S18D969H", .invalidFormat), ("RCCMNLA3S18D969H", .invalidFormat),
            ("RCCMNL83S18DV69H", .invalidOmocodia),
            ("RCCMNL83Z18D969H", .invalidMonth),
            ("RCCMNL83S32D969H", .invalidDay), ("RCCMNL83S00D969H", .invalidDay), ("RCCMNL83S72D969H", .invalidDay),
            ("RCCMNL83B30D969H", .invalidDate),
            ("RCCMNL83S18D969A", .checkCharacterMismatch),
        ]
        for (input, expected) in cases {
            switch CodiceFiscale.parse(input, referenceDate: today) {
            case .success(let cf): Issue.record("'\(input)' was accepted as \(cf)")
            case .failure(let e):
                #expect(e.code == expected, "'\(input)': \(e.detail)")
                #expect(!e.detail.isEmpty)
            }
        }
    }

    @Test("29 February only in leap years, century chosen so the birth is not in the future")
    func calendarRules() throws {
        let leap = try #require(CodiceFiscale.encode(surnameLetters: "RSS", nameLetters: "MRA",
            dateOfBirth: CalendarDate(year: 2000, month: 2, day: 29)!, gender: .male, belfioreCode: "F205"))
        #expect(try CodiceFiscale.parse(leap, referenceDate: today).get().dateOfBirth.year == 2000)
        // "01" + February 29 does not exist in 2001 nor 1901.
        var bytes = Array(leap.utf8)
        bytes[7] = UInt8(ascii: "1")
        let first15 = String(decoding: bytes[0..<15], as: UTF8.self)
        let notLeap = first15 + String(CodiceFiscale.checkCharacter(for: first15)!)
        #expect((try? CodiceFiscale.parse(notLeap, referenceDate: today).get()) == nil)
        // Year 30 read on 2026-11-30 is 1930, not 2030.
        let old = try #require(CodiceFiscale.encode(surnameLetters: "RSS", nameLetters: "MRA",
            dateOfBirth: CalendarDate(year: 1930, month: 5, day: 1)!, gender: .male, belfioreCode: "F205"))
        #expect(try CodiceFiscale.parse(old, referenceDate: today).get().dateOfBirth.year == 1930)
    }
}
