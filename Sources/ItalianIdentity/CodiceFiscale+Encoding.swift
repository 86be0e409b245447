extension CodiceFiscale {
    /// The check character for the first 15 characters of a code, or `nil` if they are not 15 letters/digits.
    public static func checkCharacter(for first15: String) -> Character? {
        let bytes = Array(first15.uppercased().utf8)
        guard bytes.count == 15, let c = CodiceFiscaleAlphabet.checkCharacter(bytes[...]) else { return nil }
        return Character(Unicode.Scalar(c))
    }

    /// Builds a code from its parts (three surname letters, three name letters, birth facts, Belfiore code),
    /// optionally as the omocode of the given level. Used by the test PKI and by property tests.
    public static func encode(
        surnameLetters: String, nameLetters: String, dateOfBirth: CalendarDate, gender: Gender,
        belfioreCode: String, omocodiaLevel: Int = 0
    ) -> String? {
        guard surnameLetters.count == 3, nameLetters.count == 3, belfioreCode.count == 4,
              (0...7).contains(omocodiaLevel) else { return nil }
        let yy = dateOfBirth.year % 100
        let dd = dateOfBirth.day + (gender == .female ? 40 : 0)
        let month = Character(Unicode.Scalar(CodiceFiscaleAlphabet.monthLetters[dateOfBirth.month - 1]))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var bytes = Array((surnameLetters + nameLetters + two(yy) + String(month) + two(dd) + belfioreCode).uppercased().utf8)
        for position in CodiceFiscaleAlphabet.omocodiaPositions.prefix(omocodiaLevel) {
            guard CodiceFiscaleAlphabet.isDigit(bytes[position]) else { return nil }
            bytes[position] = CodiceFiscaleAlphabet.omocodiaLetters[Int(bytes[position] - 48)]
        }
        guard let check = CodiceFiscaleAlphabet.checkCharacter(bytes[...]) else { return nil }
        bytes.append(check)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The omocode of `level` for a valid base code (digits replaced right to left, check character recomputed).
    public static func omocode(_ code: String, level: Int) -> String? {
        var bytes = Array(code.uppercased().utf8)
        guard bytes.count == 16, (0...7).contains(level) else { return nil }
        for (i, position) in CodiceFiscaleAlphabet.omocodiaPositions.enumerated() {
            guard let digit = CodiceFiscaleAlphabet.digitValue(bytes[position]) else { return nil }
            bytes[position] = i < level ? CodiceFiscaleAlphabet.omocodiaLetters[Int(digit - 48)] : digit
        }
        guard let check = CodiceFiscaleAlphabet.checkCharacter(bytes[0..<15]) else { return nil }
        bytes[15] = check
        return String(decoding: bytes, as: UTF8.self)
    }
}
