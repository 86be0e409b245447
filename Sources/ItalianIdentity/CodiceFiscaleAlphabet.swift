/// The tables of the codice fiscale (DM 23/12/1976; DOMAIN.md §2.2–2.3, sources S6/S7).
enum CodiceFiscaleAlphabet {
    /// Month letters, January to December.
    static let monthLetters: [UInt8] = Array("ABCDEHLMPRST".utf8)
    /// Letters that replace the digits 0–9 in an omocode.
    static let omocodiaLetters: [UInt8] = Array("LMNPQRSTUV".utf8)
    /// 0-based positions of the seven digits, in the order omocodia replaces them (right to left).
    static let omocodiaPositions = [14, 13, 12, 10, 9, 7, 6]
    /// Values of characters in odd (1-based) positions, indexed by digit or letter rank.
    static let oddValues: [Int] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isLetter(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }

    /// The check character (CIN) of the first 15 characters; `nil` when a character is not A–Z or 0–9.
    static func checkCharacter(_ first15: ArraySlice<UInt8>) -> UInt8? {
        var sum = 0
        for (offset, c) in first15.enumerated() {
            let rank: Int
            if isDigit(c) { rank = Int(c - 48) } else if isLetter(c) { rank = Int(c - 65) } else { return nil }
            sum += offset % 2 == 0 ? oddValues[rank] : rank
        }
        return UInt8(65 + sum % 26)
    }

    /// The digit a character stands for at a digit position: itself, or its omocodia letter decoded.
    static func digitValue(_ c: UInt8) -> UInt8? {
        if isDigit(c) { return c }
        if let i = omocodiaLetters.firstIndex(of: c) { return UInt8(48 + i) }
        return nil
    }
}
