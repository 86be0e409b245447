import Foundation
import Mustache

/// Renders the citizen's pages from the swift-mustache templates and text catalogues in `Templates/`.
public struct PageRenderer: Sendable {
    public enum Language: String, Sendable, CaseIterable {
        case it, en
        var other: Language { self == .it ? .en : .it }
    }

    let library: MustacheLibrary
    let strings: Strings

    /// The text catalogues: JSON objects of strings (and the help sections). Read-only after loading.
    struct Strings: @unchecked Sendable {
        // @unchecked Sendable: built once at start-up from JSON and never mutated.
        let byLanguage: [Language: [String: Any]]
    }

    /// Loads the templates bundled with the server (or from `directory`, for a region's own look).
    public static func load(directory: String? = nil) async throws -> PageRenderer {
        guard let folder = directory ?? Bundle.module.resourcePath.map({ $0 + "/Templates" }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the page templates are missing from the bundle"])
        }
        // Registered before the templates are parsed, which is when their CONTENT_TYPE is looked up; the same value each
        // time, so registering again (several renderers in one process) changes nothing.
        MustacheContentTypes.register(HTMLEscaping(), named: HTMLEscaping.name)
        let library = try await MustacheLibrary(directory: folder)
        var strings: [Language: [String: Any]] = [:]
        for lang in Language.allCases {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/strings.\(lang.rawValue).json"))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "strings.\(lang.rawValue).json is not a JSON object"])
            }
            strings[lang] = object
        }
        for name in ["layout", "message", "consent", "recognised", "index", "help"] where library.getTemplate(named: name) == nil {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "template \(name).mustache is missing in \(folder)"])
        }
        return PageRenderer(library: library, strings: Strings(byLanguage: strings))
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
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "")" }.joined(separator: "&")
        var context: [String: Any] = ["lang": lang.rawValue, "otherLang": lang.other.rawValue, "switchURL": switchURL,
                                      "helpURL": helpURL + "?lang=" + lang.rawValue, "t": strings.byLanguage[lang] ?? [:]]
        for (k, v) in values { context[k] = v }
        return library.render(context, withTemplate: template) ?? "<!doctype html><title>cnsgw</title><p>\(template)</p>"
    }
}
