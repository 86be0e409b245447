import Foundation

/// Registers relying parties automatically (OpenID Federation, SPID/CIE OIDC): a `client_id` that is an entity
/// identifier and not a client an admin registered is trusted through its trust chain. The engine asks whenever its
/// directory has no live registration for such an ID; the registrar keeps what it resolved until the chain expires.
public protocol FederatedClientRegistrar: Sendable {
    /// Whether `clientID` is an entity identifier this registrar would resolve.
    func handles(_ clientID: String) -> Bool
    /// The live registration of `clientID`: a stored one whose chain has not expired, else — when `mayResolve`, or
    /// when one was stored before and expired — one resolved from the trust chain now. Nil when there is none and
    /// `mayResolve` is false. A chain that cannot be trusted is an ``OIDCError`` (`invalid_client`, shown as a page).
    func registration(for clientID: String, mayResolve: Bool, now: Date) async throws -> ClientRegistration?
}

extension OpenIDProviderEngine {
    /// The client `id` names now: an admin's registration, or a federation one (resolved when `mayResolve`, or again
    /// when its chain expired). An expired federation registration is never used.
    public func client(_ id: String, in registered: [String: ClientRegistration], mayResolve: Bool, now: Date) async throws -> ClientRegistration? {
        let known = registered[id]
        if let known, known.federation.map({ $0.expiresAt > now }) ?? true { return known }
        guard let federation, federation.handles(id) else { return nil }
        return try await federation.registration(for: id, mayResolve: mayResolve, now: now)
    }

    /// The registered clients with `id`'s entry brought up to date (see ``client(_:in:mayResolve:now:)``).
    func clients(resolving id: String?, mayResolve: Bool, now: Date) async throws -> [String: ClientRegistration] {
        var all = try await clients()
        if let id, !id.isEmpty { all[id] = try await client(id, in: all, mayResolve: mayResolve, now: now) }
        return all
    }
}
