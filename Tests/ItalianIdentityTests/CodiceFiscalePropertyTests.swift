import Testing
@testable import ItalianIdentity

/// Seeded, reproducible generator (SplitMix64) so a failure names an input that can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct CodiceFiscalePropertyTests {
    let today = CalendarDate(year: 2026, month: 11, day: 30)!
    let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    func randomCode(_ rng: inout SeededGenerator) -> (code: String, date: CalendarDate, gender: CodiceFiscale.Gender, place: String, level: Int) {
        let year = Int.random(in: 1927...2025, using: &rng)
        let month = Int.random(in: 1...12, using: &rng)
        let day = Int.random(in: 1...CalendarDate.daysIn(month: month, year: year), using: &rng)
        let date = CalendarDate(year: year, month: month, day: day)!
        let gender: CodiceFiscale.Gender = Bool.random(using: &rng) ? .male : .female
        let place = String(letters.randomElement(using: &rng)!) + String(format3(Int.random(in: 0...999, using: &rng)))
        let level = Int.random(in: 0...7, using: &rng)
        let s = String((0..<3).map { _ in letters.randomElement(using: &rng)! })
        let n = String((0..<3).map { _ in letters.randomElement(using: &rng)! })
        let code = CodiceFiscale.encode(surnameLetters: s, nameLetters: n, dateOfBirth: date, gender: gender,
                                        belfioreCode: place, omocodiaLevel: level)!
        return (code, date, gender, place, level)
    }

    func format3(_ v: Int) -> String { v < 10 ? "00\(v)" : v < 100 ? "0\(v)" : "\(v)" }

    @Test("encode then decode round-trips date, gender, place and omocodia level (5,000 random codes)")
    func roundTrip() throws {
        var rng = SeededGenerator(state: 20261130)
        for _ in 0..<5_000 {
            let sample = randomCode(&rng)
            let cf = try CodiceFiscale.parse(sample.code, referenceDate: today).get()
            #expect(cf.dateOfBirth == sample.date, "\(sample.code)")
            #expect(cf.gender == sample.gender)
            #expect(cf.belfioreCode == sample.place)
            #expect(cf.omocodiaLevel == sample.level)
            #expect(CodiceFiscale.omocode(cf.baseCode, level: sample.level) == sample.code)
        }
    }

    @Test("changing any one character is always caught (5,000 random codes × 1 mutation)")
    func singleCharacterChangeIsCaught() {
        var rng = SeededGenerator(state: 42)
        for _ in 0..<5_000 {
            let sample = randomCode(&rng)
            var chars = Array(sample.code)
            let position = Int.random(in: 0..<16, using: &rng)
            var replacement = alphabet.randomElement(using: &rng)!
            while replacement == chars[position] { replacement = alphabet.randomElement(using: &rng)! }
            chars[position] = replacement
            let mutated = String(chars)
            if case .success = CodiceFiscale.parse(mutated, referenceDate: today) {
                Issue.record("mutation \(sample.code) → \(mutated) at \(position + 1) was accepted")
            }
        }
    }
}
