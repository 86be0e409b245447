import Foundation
import SAML
import SAMLTestSupport
import Testing

@Suite struct SAMLTimeTests {
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
