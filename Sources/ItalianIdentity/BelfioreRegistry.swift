import Foundation

/// A place of birth named by a Belfiore (cadastral) code, as valid over one interval.
public struct BirthPlace: Sendable, Hashable, Codable {
    /// The Belfiore code, for example `H501` (Roma) or `Z404` (United States).
    public let code: String
    /// The comune's or the country's name, in Italian.
    public let name: String
    /// The province's sigla (`RM`), `EE` for a foreign state, empty when the table has none.
    public let province: String
    /// Whether `code` names a foreign state.
    public var isForeign: Bool { code.hasPrefix("Z") }
    public let validFrom: CalendarDate?
    /// `nil` while the code is still in use.
    public let validTo: CalendarDate?
}

/// The table of Belfiore codes with their validity intervals, built by `scripts/build-belfiore.py` from ANPR data
/// (through python-codicefiscale) and shipped as a resource of this module.
public struct BelfioreRegistry: Sendable {
    private let places: [String: [BirthPlace]]

    /// Loads the table shipped with the module.
    public static func bundled() throws -> BelfioreRegistry {
        guard let url = Bundle.module.url(forResource: "belfiore", withExtension: "tsv") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "belfiore.tsv is missing from the ItalianIdentity bundle"])
        }
        return try BelfioreRegistry(tsv: String(contentsOf: url, encoding: .utf8))
    }

    /// Parses the tab-separated table (`code name province from to`, `#` comments).
    public init(tsv: String) throws {
        var places: [String: [BirthPlace]] = [:]
        for line in tsv.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 5, f[0].count == 4 else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "bad Belfiore line: \(line)"])
            }
            let place = BirthPlace(code: String(f[0]), name: String(f[1]), province: String(f[2]),
                                   validFrom: CalendarDate(iso: f[3]), validTo: CalendarDate(iso: f[4]))
            places[place.code, default: []].append(place)
        }
        self.places = places
    }

    /// Number of distinct codes.
    public var count: Int { places.count }

    /// The place `code` named on `date`, or `nil` if the code was not in use that day.
    public func place(code: String, on date: CalendarDate) -> BirthPlace? {
        places[code]?.first { p in
            (p.validFrom.map { $0 <= date } ?? true) && (p.validTo.map { date <= $0 } ?? true)
        }
    }

    /// The most recent place a code has named, whatever the date.
    public func latestPlace(code: String) -> BirthPlace? {
        places[code]?.max { ($0.validFrom ?? CalendarDate(year: 1, month: 1, day: 1)!) < ($1.validFrom ?? CalendarDate(year: 1, month: 1, day: 1)!) }
    }
}
