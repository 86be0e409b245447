import Foundation
import SAML
import SAMLTestSupport
import Testing

@Suite struct SAMLTimeTests {
    @Test("format writes what parse reads back, also for years under 1000 and instants before 1970 (found by fuzzing)")
    func roundTripOfOddInstants() throws {
        for text in ["0226-12-03T17:00:00+01:15", "1969-12-31T23:59:59.250Z", "1900-01-01T00:00:00Z", "2026-12-03T17:00:00.999Z"] {
            let date = try #require(SAMLTime.parse(text), "\(text)")
            let written = SAMLTime.format(date)
            #expect(SAMLTime.parse(written) == date, "\(text) → \(written)")
        }
        #expect(SAMLTime.format(try #require(SAMLTime.parse("0226-12-03T16:00:00Z"))) == "0226-12-03T16:00:00.000Z")
        #expect(SAMLTime.format(try #require(SAMLTime.parse("1969-12-31T23:59:59.250Z"))) == "1969-12-31T23:59:59.250Z")
    }

    @Test("xs:dateTime: UTC with or without fraction, offsets, and refusals of what is not a date")
    func parse() {
        let base = Date(timeIntervalSince1970: 1_764_547_200)   // 2025-12-01T00:00:00Z
        #expect(SAMLTime.parse("2025-12-01T00:00:00Z") == base)
        #expect(SAMLTime.parse("2025-12-01T00:00:00.250Z") == base + 0.25)
        #expect(SAMLTime.parse(" 2025-12-01T01:30:00+01:30 ") == base)
        #expect(SAMLTime.parse("2025-12-01T00:00:00") == base)
        for bad in ["", "2025-12-01", "2025-02-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-12-01T24:00:00Z", "2025-12-01T00:00:00.Z",
                    "2025-12-01T00:00:00Zjunk", "2025/12/01T00:00:00Z"] {
            #expect(SAMLTime.parse(bad) == nil, "\(bad) was accepted")
        }
        #expect(SAMLTime.parse(SAMLTime.format(base + 1.5)) == base + 1.5)
    }
}
