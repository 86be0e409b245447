import Foundation

/// The host of a requester's entity or client ID, the name its citizens see when it has no display name.
///
/// Remembered per requester: `URLComponents.host` decodes internationalised names through ICU, which cost more than
/// the rest of the consent page's lookups on every card step of such a requester. The IDs come from registrations, so
/// few are ever seen; the memory is bounded all the same.
final class RequesterHostNames: Sendable {
    private let names: BoundedMemo<String, String>

    init(capacity: Int = 256) { names = BoundedMemo(capacity: capacity) }

    /// The host of `requester`, or `requester` itself when it is not a URL with a host.
    func name(of requester: String) -> String {
        names.value(for: requester) { URLComponents(string: requester)?.host ?? requester }
    }

    /// How many names are remembered now.
    var remembered: Int { names.count }
}
