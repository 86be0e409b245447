import ItalianIdentity

/// Dates as the citizen reads them on a page: `18/11/1983` in Italian, `18 November 1983` in English. (The attributes
/// sent to services keep `YYYY-MM-DD`.) Written by hand: Foundation's formatters depend on the host's locale data,
/// and a calendar date has no time zone to get wrong.
enum PageDates {
    static let englishMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                                "November", "December"]

    /// `iso` (`YYYY-MM-DD`) as written in `lang`; anything else as it is.
    static func written(_ iso: String, lang: PageRenderer.Language) -> String {
        let parts = iso.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let y = parts[0], let m = parts[1], let d = parts[2], let date = CalendarDate(year: y, month: m, day: d) else { return iso }
        return written(date, lang: lang)
    }

    static func written(_ date: CalendarDate, lang: PageRenderer.Language) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch lang {
        case .it: return "\(two(date.day))/\(two(date.month))/\(date.year)"
        case .en: return "\(date.day) \(englishMonths[date.month - 1]) \(date.year)"
        }
    }
}
