import Foundation
import Mustache
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

    @Test("texts put into the templates at load give the same pages as texts looked up at render, in both languages")
    func inlinedTexts() async throws {
        let renderer = try await PageRenderer.load()
        let folder = try #require(PageRenderer.bundledFolder)
        let plain = try await MustacheLibrary(directory: folder)
        let lookedUp = PageRenderer(libraries: [.it: plain, .en: plain], strings: renderer.strings)
        let hostile = #"<b>Rossi & "Figli"</b> {{t.brand}}"#
        let values: [String: Any] = [
            "title": hostile, "paragraphs": [["text": hostile, "error": true], ["text": "ok", "error": false]], "code": hostile,
            "returnURL": "https://sp.example.it/back?a=1&b=2", "returnLabel": hostile, "requester": hostile, "level": "SpidL2",
            "rows": [["label": "Nome", "value": hostile], ["label": "Codice fiscale", "value": "RSSMRA80A01H501U"]],
            "loginID": "abc", "token": "t0k", "langQuery": "?lang=it", "cardURL": "https://card.example.it/login/card?lang=it",
        ]
        for lang in PageRenderer.Language.allCases {
            for template in ["layout", "message", "consent", "recognised", "index", "help"] {
                let inlined = renderer.render(template, lang: lang, path: "/login/card", query: ["login": "abc"], helpURL: "https://idp.example.it/help", values: values)
                let expected = lookedUp.render(template, lang: lang, path: "/login/card", query: ["login": "abc"], helpURL: "https://idp.example.it/help", values: values)
                #expect(inlined == expected, "\(template) in \(lang)")
                #expect(inlined.count > 200, "\(template) in \(lang) rendered: \(inlined)")
            }
        }
        for lang in PageRenderer.Language.allCases {
            let consent = try #require(renderer.libraries[lang]?.getTemplate(named: "consent")?.description)
            #expect(!consent.contains("{{t."), "the bundled texts are put in at load: \(consent)")
        }
        #expect(renderer.render("consent", lang: .it, path: "/", helpURL: "/help").contains(renderer.text("approve", .it)))
        #expect(renderer.render("consent", lang: .en, path: "/", helpURL: "/help").contains(renderer.text("approve", .en)))
    }

    @Test("only plain {{t.key}} tags of gateway-escaped templates are put in; the rest stay tags")
    func inliningRules() {
        let texts: [String: Any] = ["a": "R&D <now>", "b": "see {{x}}", "nested": ["c": "no"]]
        let head = "{{% CONTENT_TYPE: cnsgw-html}}"
        #expect(PageRenderer.inliningTexts(head + "<p>{{t.a}}|{{ t.a }}</p>", texts) == head + "<p>R&amp;D &lt;now&gt;|R&amp;D &lt;now&gt;</p>")
        #expect(PageRenderer.inliningTexts(head + "{{{t.a}}}{{& t.a}}{{t.b}}{{t.nested.c}}{{t.missing}}{{#t.a}}x{{/t.a}}", texts)
                == head + "{{{t.a}}}{{& t.a}}{{t.b}}{{t.nested.c}}{{t.missing}}{{#t.a}}x{{/t.a}}")
        #expect(PageRenderer.inliningTexts("<p>{{t.a}}</p>", texts) == "<p>{{t.a}}</p>", "swift-mustache's own escaping: left to it")
        #expect(PageRenderer.inliningTexts(head + "{{t.a}} {{unclosed", texts) == head + "R&amp;D &lt;now&gt; {{unclosed")
    }

    @Test("the language-switch link keeps the page's query, every value percent-encoded")
    func switchLink() async throws {
        let renderer = try await PageRenderer.load()
        let page = renderer.render("index", lang: .it, path: "/login/card", query: ["login": "a b&lang=it\"><x"], helpURL: "/help", values: ["cardURL": "/c"])
        #expect(page.contains(#"href="/login/card?lang=en&amp;login=a%20b%26lang%3Dit%22%3E%3Cx""#), "\(page)")
    }
}
