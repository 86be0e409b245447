import CodedErrors

/// Why a string is not a valid personal codice fiscale. `code` is stable (used in logs and JSON);
/// `detail` is a sentence for a person.
public struct CodiceFiscaleError: CodedError {
    /// A stable identifier of the failed rule.
    public enum Code: String, Sendable, Hashable, Codable {
        case empty
        case containsSpaces = "contains_spaces"
        case invalidCharacters = "invalid_characters"
        case wrongLength = "wrong_length"
        /// An 11-digit numeric code: a legal person's (or provisional) code, not a citizen's.
        case numericCode = "numeric_code"
        case invalidFormat = "invalid_format"
        case invalidOmocodia = "invalid_omocodia"
        case invalidMonth = "invalid_month"
        case invalidDay = "invalid_day"
        case invalidDate = "invalid_date"
        case checkCharacterMismatch = "check_character_mismatch"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
