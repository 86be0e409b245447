import Foundation
import OIDC
import SAML

/// SAML metadata from a URL: refreshed when its `cacheDuration` has passed (or its `validUntil` nears); each new copy
/// must verify with the SP's federation certificate and name the same entity. Every refresh is stored and audited.
extension ServiceProviderRegistration: RefreshedRegistration {
    static let refresh = (auditAction: "sp.refresh", idField: "entityID", failureCounter: "cnsgw_saml_metadata_refresh_failures_total",
                          counterDimension: "entity", largest: 1 << 20)
    var registrationID: String { entityID }

    func refreshURL(now: Date) -> String? {
        guard let current = try? ServiceProviderMetadata.parse(Array(metadataXML.utf8), now: .distantPast), let due = refreshDue(metadata: current),
              due <= now else { return nil }
        return source
    }

    func applying(_ document: [UInt8], now: Date) throws -> ServiceProviderRegistration {
        let fresh = try ServiceProviderMetadata.parse(document, federationCertificate: federationCertificatePEM.map { Array($0.utf8) }, now: now)
        guard fresh.entityID == entityID else { throw MetadataError(.malformed, "the refreshed metadata is for \(fresh.entityID), not \(entityID)") }
        var next = self
        next.fetchedAt = now
        next.metadataXML = String(decoding: document, as: UTF8.self)
        next.lastRefreshError = nil
        return next
    }

    func keeping(failure: String, now: Date) -> ServiceProviderRegistration {
        var next = self
        next.fetchedAt = now
        next.lastRefreshError = failure
        return next
    }

    func differs(from next: ServiceProviderRegistration) -> Bool { true }   // the fetch time moves the next refresh: always stored

    func auditFields(failure: String?) -> [String: String] { ["result": failure == nil ? "refreshed" : "failed", "error": failure ?? ""] }
}

/// A client's JWKS from its URL, every interval, so its key rollover reaches the gateway without an admin; keys the
/// client could not use (no signing key for private_key_jwt, private members, short RSA keys) keep the last good ones.
/// Only a change of keys or of the error is stored and audited.
extension ClientRegistration: RefreshedRegistration {
    static let refresh = (auditAction: "client.jwks_refresh", idField: "client", failureCounter: "cnsgw_oidc_jwks_refresh_failures_total",
                          counterDimension: "client", largest: 256 * 1024)
    var registrationID: String { clientID }

    func refreshURL(now: Date) -> String? { jwksURI }

    func applying(_ document: [UInt8], now: Date) throws -> ClientRegistration {
        var next = self
        next.jwksFetchedAt = now
        next.jwks = try JSONWebKeySet.parse(Data(document))
        try next.validate()
        next.lastRefreshError = nil
        return next
    }

    func keeping(failure: String, now: Date) -> ClientRegistration {
        var next = self
        next.jwksFetchedAt = now
        next.lastRefreshError = failure
        return next
    }

    func differs(from next: ClientRegistration) -> Bool { next.jwks != jwks || next.lastRefreshError != lastRefreshError }

    func auditFields(failure: String?) -> [String: String] {
        ["result": failure == nil ? "keys_changed" : "failed", "keys": (jwks?.keys.compactMap(\.kid) ?? []).joined(separator: ","), "error": failure ?? ""]
    }
}
