/// The shape of this library's errors (after swift-certificates' `CertificateError`): a stable, extensible `code`
/// for programs and a `detail` sentence for people. Equality compares the code only, so tests and callers can
/// match on the rule that failed without matching prose.
public protocol CodedError: Error, Sendable, Hashable, CustomStringConvertible {
    associatedtype Code: RawRepresentable & Hashable & Sendable where Code.RawValue == String
    var code: Code { get }
    var detail: String { get }
}

extension CodedError {
    public var description: String { "\(code.rawValue): \(detail)" }
    public static func == (a: Self, b: Self) -> Bool { a.code == b.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
}
