import Foundation
import Mustache
import OIDC

/// Renders the citizen's pages from the swift-mustache templates and text catalogues in `Templates/`.
public struct PageRenderer: Sendable {
    public enum Language: String, Sendable, CaseIterable {
        case it, en
        var other: Language { self == .it ? .en : .it }
    }

    /// The templates for each language, with the catalogue's texts already in place (``inliningTexts(_:_:)``).
    let libraries: [Language: MustacheLibrary]
    let strings: Strings

    /// The text catalogues: JSON objects of strings (and the help sections). Read-only after loading.
    struct Strings: @unchecked Sendable {
        // @unchecked Sendable: built once at start-up from JSON and never mutated.
        let byLanguage: [Language: [String: Any]]
    }

    /// The folder of the templates built into `cnsgw`.
    static var bundledFolder: String? { Bundle.module.resourcePath.map { $0 + "/Templates" } }

    /// Loads the templates bundled with the server (or from `directory`, for a region's own look).
    public static func load(directory: String? = nil) async throws -> PageRenderer {
        guard let folder = directory ?? bundledFolder else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the page templates are missing from the bundle"])
        }
        // Registered before the templates are parsed, which is when their CONTENT_TYPE is looked up; the same value each
        // time, so registering again (several renderers in one process) changes nothing.
        MustacheContentTypes.register(HTMLEscaping(), named: HTMLEscaping.name)
        var strings: [Language: [String: Any]] = [:]
        for lang in Language.allCases {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/strings.\(lang.rawValue).json"))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "strings.\(lang.rawValue).json is not a JSON object"])
            }
            strings[lang] = object
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".mustache") }
        var sources: [String: String] = [:]
        for file in names { sources[String(file.dropLast(".mustache".count))] = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8) }
        for name in ["layout", "message", "consent", "recognised", "index", "help"] where sources[name] == nil {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "template \(name).mustache is missing in \(folder)"])
        }
        var libraries: [Language: MustacheLibrary] = [:]
        for lang in Language.allCases {
            var library = MustacheLibrary()
            for (name, source) in sources {
                do { try library.register(inliningTexts(source, strings[lang] ?? [:]), named: name) } catch {
                    throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "template \(name).mustache in \(folder) does not parse: \(error)"])
                }
            }
            libraries[lang] = library
        }
        return PageRenderer(libraries: libraries, strings: Strings(byLanguage: strings))
    }

    /// `template` with each `{{t.key}}` of a template escaped by the gateway (`{{% CONTENT_TYPE: cnsgw-html}}`)
    /// replaced by the catalogue's text, HTML-escaped as rendering would: the texts are the same on every page of a
    /// language, and swift-mustache resolves each `t.key` at render by dynamic casts over the context stack (about a
    /// tenth of the consent page's render time in a `perf` profile of the card step went away with them). A key that
    /// is not a plain text of the catalogue, a text that holds `{{` or `}}`, and `{{{t.key}}}` or `{{& t.key}}` stay
    /// tags, resolved at render as before.
    static func inliningTexts(_ template: String, _ texts: [String: Any]) -> String {
        guard template.hasPrefix("{{% CONTENT_TYPE: \(HTMLEscaping.name)}}") else { return template }
        let escaping = HTMLEscaping()
        var out = ""
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else { rest = rest[open.lowerBound...]; break }
            let inside = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let tag = rest[open.lowerBound..<close.upperBound]
            if afterOpen.first != "{", inside.hasPrefix("t."), case let key = String(inside.dropFirst(2)), !key.contains("."),
               let text = texts[key] as? String, !text.contains("{{"), !text.contains("}}") {
                out += escaping.escapeText(text)
            } else {
                out += tag
            }
            rest = afterOpen[close.upperBound...]
        }
        return out + rest
    }

    /// The page's language: `?lang=` first, then the first `Accept-Language` entry, Italian by default.
    public static func language(query: String?, acceptLanguage: String?) -> Language {
        if let query, let lang = Language(rawValue: query.lowercased()) { return lang }
        let first = acceptLanguage?.lowercased().split(separator: ",").first?.trimmingCharacters(in: .whitespaces) ?? ""
        return first.hasPrefix("en") ? .en : .it
    }

    /// A text from the catalogue, with `{name}` placeholders filled.
    func text(_ key: String, _ lang: Language, _ values: [String: String] = [:]) -> String {
        var s = strings.byLanguage[lang]?[key] as? String ?? key
        for (k, v) in values { s = s.replacingOccurrences(of: "{\(k)}", with: v) }
        return s
    }

    /// Renders `template` for `lang`. `path` and `query` build the language-switch link.
    func render(_ template: String, lang: Language, path: String, query: [String: String] = [:], helpURL: String,
                values: [String: Any] = [:]) -> String {
        var switchQuery = query
        switchQuery["lang"] = lang.other.rawValue
        let switchURL = path + "?" + switchQuery.sorted { $0.key < $1.key }
            .map { "\(URLForm.encode($0.key))=\(URLForm.encode($0.value))" }.joined(separator: "&")
        var context: [String: Any] = ["lang": lang.rawValue, "otherLang": lang.other.rawValue, "switchURL": switchURL,
                                      "helpURL": helpURL + "?lang=" + lang.rawValue, "t": strings.byLanguage[lang] ?? [:]]
        for (k, v) in values { context[k] = v }
        return libraries[lang]?.render(context, withTemplate: template) ?? "<!doctype html><title>cnsgw</title><p>\(template)</p>"
    }
}
