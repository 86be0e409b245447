import Foundation
import OIDC

/// Metadata policies (OpenID Federation 1.0 §6.1): each superior on a trust chain may constrain the metadata of the
/// entities below it with the operators `value`, `add`, `default`, `one_of`, `subset_of`, `superset_of` and
/// `essential`. The policies of a chain are combined from the trust anchor down, then applied to the leaf's metadata.
/// Written here because no Swift library implements OpenID Federation.
public struct MetadataPolicy: Sendable, Hashable {
    /// The operators this gateway applies, in the order they are applied (§6.1.3.1).
    public static let operators = ["value", "add", "default", "one_of", "subset_of", "superset_of", "essential"]

    /// Per metadata parameter, the operators and their values.
    public private(set) var parameters: [String: [String: JSONValue]]

    public init(_ policy: JSONObject = [:], critical: [String] = [], source: String) throws {
        parameters = [:]
        for (name, operators) in policy {
            guard let ops = operators.object else { throw FederationError(.policyViolation, "\(source): the policy of '\(name)' is not an object") }
            for op in ops.keys where !Self.operators.contains(op) && critical.contains(op) {
                throw FederationError(.policyViolation, "\(source): the critical policy operator '\(op)' is not supported")
            }
            parameters[name] = ops.filter { Self.operators.contains($0.key) }   // unknown, non-critical operators are ignored
        }
    }

    /// `self` (a superior's combined policy) with a subordinate's policy under it: a subordinate may only narrow.
    public func combined(with subordinate: MetadataPolicy, source: String) throws -> MetadataPolicy {
        var result = self
        for (name, child) in subordinate.parameters {
            var merged = parameters[name] ?? [:]
            for (op, value) in child {
                guard let existing = merged[op] else { merged[op] = value; continue }
                func conflict() -> FederationError {
                    FederationError(.policyViolation, "\(source): the '\(op)' of '\(name)' conflicts with a superior's policy")
                }
                switch op {
                case "value", "default":
                    guard existing == value else { throw conflict() }
                case "add", "superset_of":
                    merged[op] = .array(Self.union(existing.list, value.list))
                case "one_of", "subset_of":
                    let both = Self.intersection(existing.list, value.list)
                    if op == "one_of" && both.isEmpty { throw conflict() }
                    merged[op] = .array(both)
                case "essential":
                    merged[op] = .bool(existing == .bool(true) || value == .bool(true))
                default: break
                }
            }
            try Self.checkConsistency(merged, name: name, source: source)
            result.parameters[name] = merged
        }
        return result
    }

    /// The operators of one parameter must agree with each other once combined (§6.1.3.2).
    static func checkConsistency(_ ops: [String: JSONValue], name: String, source: String) throws {
        func fail(_ why: String) -> FederationError { FederationError(.policyViolation, "\(source): the policy of '\(name)' \(why)") }
        let subset = ops["subset_of"].map { Set($0.list) }
        let superset = ops["superset_of"].map { Set($0.list) }
        if let subset, let superset, !superset.isSubset(of: subset) { throw fail("has superset_of values outside subset_of") }
        if let add = ops["add"].map({ Set($0.list) }) {
            if let subset, !add.isSubset(of: subset) { throw fail("adds values outside subset_of") }
        }
        if let value = ops["value"], value != .null {
            let values = Set(value.list)
            if let oneOf = ops["one_of"], !oneOf.list.contains(value) { throw fail("has a value outside one_of") }
            if let subset, !values.isSubset(of: subset) { throw fail("has a value outside subset_of") }
            if let superset, !superset.isSubset(of: values) { throw fail("has a value without every superset_of member") }
        }
        if let dflt = ops["default"], let oneOf = ops["one_of"], !oneOf.list.contains(dflt) { throw fail("has a default outside one_of") }
    }

    /// Applies the policy to `metadata` of one entity type.
    public func apply(to metadata: JSONObject, entityType: String) throws -> JSONObject {
        var result = metadata
        for (name, ops) in parameters.sorted(by: { $0.key < $1.key }) {
            func fail(_ why: String) -> FederationError {
                FederationError(.policyViolation, "\(entityType).\(name) \(why)")
            }
            if let value = ops["value"] {
                result[name] = value == .null ? nil : value
            }
            if let add = ops["add"] {
                if let current = result[name], current.array == nil { throw fail("is not a list, so the policy cannot add to it") }
                result[name] = .array(Self.union(result[name]?.list ?? [], add.list))
            }
            if let dflt = ops["default"], result[name] == nil { result[name] = dflt }
            if let oneOf = ops["one_of"], let current = result[name] {
                guard oneOf.list.contains(current) else { throw fail("is not one of the values the federation allows") }
            }
            if let subset = ops["subset_of"], let current = result[name] {
                let kept = current.list.filter { subset.list.contains($0) }
                result[name] = kept.isEmpty ? nil : .array(kept)
            }
            if let superset = ops["superset_of"], let current = result[name] {
                let have = current.list
                guard superset.list.allSatisfy(have.contains) else { throw fail("lacks values the federation requires") }
            }
            if ops["essential"] == .bool(true) && result[name] == nil { throw fail("is essential but absent") }
        }
        return result
    }

    static func union(_ a: [JSONValue], _ b: [JSONValue]) -> [JSONValue] { a + b.filter { !a.contains($0) } }
    static func intersection(_ a: [JSONValue], _ b: [JSONValue]) -> [JSONValue] { a.filter(b.contains) }
}

extension JSONValue {
    /// A parameter's values: its members if it is an array, else itself.
    var list: [JSONValue] { array ?? [self] }
}
