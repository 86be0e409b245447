import Foundation

/// `application/x-www-form-urlencoded` fields (a form body or a query), `+` read as a space.
public enum URLEncodedForm {
    /// The fields by name. A name given more than once keeps its last value, or none with `dropRepeated`; a value that
    /// is not valid percent-encoding is kept as absent.
    public static func decode(_ body: String, dropRepeated: Bool = false) -> [String: String] {
        var fields: [String: String] = [:]
        var repeated = Set<String>()
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { continue }
            if fields[name] != nil { repeated.insert(name) }
            fields[name] = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding : ""
        }
        if dropRepeated { for name in repeated { fields[name] = nil } }
        return fields
    }
}
