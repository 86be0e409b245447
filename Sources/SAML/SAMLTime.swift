import Foundation

/// `xs:dateTime` (UTC, optional fractional seconds) and `xs:duration` as SAML uses them.
public enum SAMLTime {
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: trimmed) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: trimmed)
    }

    /// UTC with milliseconds, as SPID examples write it.
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// `PnDTnHnMnS` (the subset metadata uses); nil for anything else.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard rest.hasPrefix("P") else { return nil }
        rest = rest.dropFirst()
        var total: TimeInterval = 0, inTime = false, number = ""
        for c in rest {
            if c == "T" { inTime = true; continue }
            if c.isNumber || c == "." { number.append(c); continue }
            guard let value = Double(number) else { return nil }
            number = ""
            switch (c, inTime) {
            case ("Y", false): total += value * 365 * 86_400
            case ("M", false): total += value * 30 * 86_400
            case ("D", false): total += value * 86_400
            case ("H", true): total += value * 3600
            case ("M", true): total += value * 60
            case ("S", true): total += value
            default: return nil
            }
        }
        return number.isEmpty ? total : nil
    }
}
