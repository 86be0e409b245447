/// A validated personal codice fiscale (16 characters, omocodia allowed), with the facts it encodes.
///
/// Validation covers format, the omocodia pattern (digits replaced from the right only), a real calendar date
/// and the check character. The century of the birth year is the latest one that does not put the birth after
/// `referenceDate`. The Belfiore code is decoded but an unknown code is not an error here: the place tables lag
/// behind reality, so `placeOfBirth` is simply `nil` then (see ``BelfioreRegistry``).
public struct CodiceFiscale: Sendable, Hashable, CustomStringConvertible {
    /// The code as issued (uppercased, surrounding white space removed): the identity key.
    public let code: String
    /// How many digits omocodia replaced with letters (0 = none, 7 = all).
    public let omocodiaLevel: Int
    /// The code with omocodia letters turned back into digits and the check character recomputed.
    public let baseCode: String
    public let dateOfBirth: CalendarDate
    public let gender: Gender
    /// The Belfiore (cadastral) code of the comune, or `Zxxx` for a foreign state.
    public let belfioreCode: String

    /// Sex as the codice fiscale records it (day + 40 for women).
    public enum Gender: String, Sendable, Hashable, Codable {
        case male = "M"
        case female = "F"
    }

    public var description: String { code }

    /// Parses and validates `text`.
    /// - Parameters:
    ///   - text: the candidate code; lowercase is accepted and uppercased, inner spaces are not.
    ///   - referenceDate: "today", to resolve the century of a two-digit year.
    ///   - registry: when given, a year whose 2000s reading names a place that did not exist then is read as 1900s.
    public static func parse(
        _ text: String, referenceDate: CalendarDate, registry: BelfioreRegistry? = nil
    ) -> Result<CodiceFiscale, CodiceFiscaleError> {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return .failure(.init(.empty, "The codice fiscale is empty.")) }
        if trimmed.contains(where: { $0.isWhitespace }) {
            return .failure(.init(.containsSpaces, "The codice fiscale '\(trimmed)' contains spaces."))
        }
        let upper = trimmed.uppercased()
        let bytes = Array(upper.utf8)
        guard bytes.allSatisfy({ CodiceFiscaleAlphabet.isDigit($0) || CodiceFiscaleAlphabet.isLetter($0) }) else {
            return .failure(.init(.invalidCharacters, "The codice fiscale '\(trimmed)' has characters other than letters and digits."))
        }
        if bytes.count == 11 && bytes.allSatisfy(CodiceFiscaleAlphabet.isDigit) {
            return .failure(.init(.numericCode, "'\(upper)' is an 11-digit numeric code, which belongs to a legal person, not a citizen."))
        }
        guard bytes.count == 16 else {
            return .failure(.init(.wrongLength, "A codice fiscale has 16 characters; '\(upper)' has \(bytes.count)."))
        }
        for i in [0, 1, 2, 3, 4, 5, 8, 11, 15] where !CodiceFiscaleAlphabet.isLetter(bytes[i]) {
            return .failure(.init(.invalidFormat, "Character \(i + 1) of '\(upper)' must be a letter."))
        }
        // Digit positions: a digit or an omocodia letter, and letters only as a suffix of the replacement order.
        var base = bytes
        var level = 0
        var sawDigit = false
        for position in CodiceFiscaleAlphabet.omocodiaPositions {
            let c = bytes[position]
            guard let digit = CodiceFiscaleAlphabet.digitValue(c) else {
                return .failure(.init(.invalidFormat, "Character \(position + 1) of '\(upper)' must be a digit or an omocodia letter (L–V)."))
            }
            if CodiceFiscaleAlphabet.isDigit(c) {
                sawDigit = true
            } else {
                if sawDigit {
                    return .failure(.init(.invalidOmocodia,
                        "'\(upper)' replaces digit \(position + 1) but keeps a digit to its right; omocodia replaces digits from the right."))
                }
                level += 1
            }
            base[position] = digit
        }
        guard let monthIndex = CodiceFiscaleAlphabet.monthLetters.firstIndex(of: bytes[8]) else {
            return .failure(.init(.invalidMonth, "'\(Character(Unicode.Scalar(bytes[8])))' (character 9 of '\(upper)') is not a month letter."))
        }
        let rawDay = Int(base[9] - 48) * 10 + Int(base[10] - 48)
        let gender: Gender
        let day: Int
        switch rawDay {
        case 1...31: (gender, day) = (.male, rawDay)
        case 41...71: (gender, day) = (.female, rawDay - 40)
        default:
            return .failure(.init(.invalidDay, "The day field of '\(upper)' is \(rawDay); it must be 01–31 (men) or 41–71 (women)."))
        }
        let yy = Int(base[6] - 48) * 10 + Int(base[7] - 48)
        let belfiore = String(decoding: base[11...14], as: UTF8.self)
        guard let date = resolveBirthDate(yy: yy, month: monthIndex + 1, day: day, referenceDate: referenceDate,
                                          belfiore: belfiore, registry: registry) else {
            return .failure(.init(.invalidDate, "'\(upper)' encodes day \(day) of month \(monthIndex + 1) in year ..\(yy), which does not exist."))
        }
        let expected = CodiceFiscaleAlphabet.checkCharacter(bytes[0..<15])!
        guard expected == bytes[15] else {
            return .failure(.init(.checkCharacterMismatch,
                "The check character of '\(upper)' is '\(Character(Unicode.Scalar(bytes[15])))' but should be '\(Character(Unicode.Scalar(expected)))'; the code is mistyped or forged."))
        }
        base[15] = CodiceFiscaleAlphabet.checkCharacter(base[0..<15])!
        return .success(CodiceFiscale(code: upper, omocodiaLevel: level, baseCode: String(decoding: base, as: UTF8.self),
                                      dateOfBirth: date, gender: gender, belfioreCode: belfiore))
    }

    private static func resolveBirthDate(
        yy: Int, month: Int, day: Int, referenceDate: CalendarDate, belfiore: String, registry: BelfioreRegistry?
    ) -> CalendarDate? {
        let century = referenceDate.year / 100 * 100
        let candidates = [century + yy, century - 100 + yy].compactMap { CalendarDate(year: $0, month: month, day: day) }
            .filter { $0 <= referenceDate }
        guard let latest = candidates.first else { return nil }
        if let registry, registry.place(code: belfiore, on: latest) == nil,
           let older = candidates.dropFirst().first, registry.place(code: belfiore, on: older) != nil {
            return older
        }
        return latest
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
