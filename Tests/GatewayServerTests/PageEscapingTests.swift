import Testing
@testable import GatewayServer

@Suite("The pages escape every value they show")
struct PageEscapingTests {
    @Test("the five HTML characters become entities; other text, accents and emoji included, is kept as it is")
    func escaping() {
        let escaping = HTMLEscaping()
        #expect(escaping.escapeText(#"<a href="x">Rossi & Figli's</a>"#) == "&lt;a href=&quot;x&quot;&gt;Rossi &amp; Figli&#39;s&lt;/a&gt;")
        #expect(escaping.escapeText("Comune di Forlì — servizi 🏛️") == "Comune di Forlì — servizi 🏛️")
        #expect(escaping.escapeText("è<é") == "è&lt;é")
        #expect(escaping.escapeText("") == "")
    }

    @Test("a page built from the bundled templates escapes what a service or a request supplied, and starts with its doctype")
    func renderedPage() async throws {
        let renderer = try await PageRenderer.load()
        let hostile = #"<script>alert('x')</script> & "Comune""#
        let page = renderer.render("message", lang: .it, path: "/login/card", helpURL: "https://idp.example.it/help",
                                   values: ["title": hostile, "paragraphs": [["text": hostile, "error": true]], "code": hostile])
        #expect(page.hasPrefix("<!doctype html>"), "\(page.prefix(80))")
        #expect(!page.contains("<script>") && !page.contains("alert('x')"))
        #expect(page.components(separatedBy: "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Comune&quot;").count - 1 == 4, "\(page)")
    }
}
