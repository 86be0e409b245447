import Foundation
import OIDC
import Testing

@Suite struct URLFormTests {
    @Test func onlyRFC3986UnreservedBytesStayAsTheyAre() {
        #expect(URLForm.encode("AZaz09-._~") == "AZaz09-._~")
        #expect(URLForm.encode("a b&c=d/e?f#g+h%") == "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25")
        #expect(URLForm.encode("Forlì 😀") == "Forl%C3%AC%20%F0%9F%98%80", "non-ASCII letters are encoded too")
        #expect(URLForm.encode("\u{00}\n") == "%00%0A")
        #expect(URLForm.encode("") == "")
        // Every byte value: what comes back decodes to the original.
        let all = String(decoding: (1...0x7F).map { UInt8($0) }, as: UTF8.self) + "àèéìòù€"
        #expect(URLForm.encode(all).removingPercentEncoding == all)
        #expect(URLForm.encode(all).utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: " ") })
    }
}
