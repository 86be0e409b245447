import Crypto
import Foundation
import OIDC

/// A signed entity statement (OpenID Federation 1.0 §3): an Entity Configuration (`iss` = `sub`, signed with one of
/// its own `jwks`) or a Subordinate Statement (`iss` a superior, `sub` the entity whose federation keys it vouches
/// for). Only statements whose signature and lifetime were checked are made.
public struct EntityStatement: Sendable {
    public static let mediaType = "application/entity-statement+jwt"
    public static let jwtType = "entity-statement+jwt"
    /// The algorithms a federation statement may be signed with (DOMAIN.md §4: RS256/RS512 required, PS256/ES256 allowed).
    public static let algorithms: Set<JWSAlgorithm> = [.rs256, .rs512, .ps256, .es256]

    public let compact: String
    public let claims: JSONObject
    public let issuer: String
    public let subject: String
    public let issuedAt: Date
    public let expiresAt: Date
    /// The federation keys of `subject`.
    public let jwks: [JSONWebKey]

    public var isConfiguration: Bool { issuer == subject }
    public var authorityHints: [String] { claims["authority_hints"]?.strings ?? [] }
    public var metadata: JSONObject { claims["metadata"]?.object ?? [:] }
    public var metadataPolicy: JSONObject { claims["metadata_policy"]?.object ?? [:] }
    /// The policy operators a superior marks as critical: one this gateway does not know stops the chain.
    public var criticalPolicyOperators: [String] { claims["metadata_policy_crit"]?.strings ?? [] }
    /// The superior's endpoint for Subordinate Statements (in its Entity Configuration).
    public var fetchEndpoint: String? { metadata["federation_entity"]?.object?["federation_fetch_endpoint"]?.string }
    /// Trust mark issuers by trust mark type (a trust anchor's Entity Configuration).
    public var trustMarkIssuers: [String: [String]] {
        (claims["trust_mark_issuers"]?.object ?? [:]).compactMapValues(\.strings)
    }
    /// The trust marks the statement carries: type and JWT. The type is `trust_mark_type` (OpenID Federation 1.0),
    /// or `trust_mark_id`/`id` as earlier drafts and the SPID/CIE reference implementation also write it.
    public var trustMarks: [(type: String, jwt: String)] {
        (claims["trust_marks"]?.array ?? []).compactMap { entry in
            guard let o = entry.object, let jwt = o["trust_mark"]?.string,
                  let type = o["trust_mark_type"]?.string ?? o["trust_mark_id"]?.string ?? o["id"]?.string else { return nil }
            return (type, jwt)
        }
    }

    /// Verifies `compact` with `keys` (nil: the statement's own `jwks`, for an Entity Configuration) and checks its
    /// type, required claims and lifetime at `now` (± `clockSkew`).
    public init(verifying compact: String, keys: [JSONWebKey]?, now: Date, clockSkew: TimeInterval, source: String) throws {
        guard let unverified = JWS.unverifiedClaims(compact) else {
            throw FederationError(.malformedStatement, "\(source): not a compact JWS with a JSON payload")
        }
        guard let keySet = unverified["jwks"]?.object?["keys"]?.array else {
            throw FederationError(.malformedStatement, "\(source): the statement has no jwks")
        }
        let ownKeys = try keySet.map { value -> JSONWebKey in
            guard value.object != nil, let key = try? JSONDecoder().decode(JSONWebKey.self, from: JSONEncoder().encode(value)) else {
                throw FederationError(.malformedStatement, "\(source): a key in jwks is not a public RSA or EC JWK")
            }
            return key
        }
        let verified: VerifiedJWS
        do {
            verified = try JWS.verify(compact, keys: keys ?? ownKeys, allowed: Self.algorithms, purpose: source)
        } catch let error as OIDCError {
            throw FederationError(error.reason == "jwt_signature" || error.reason == "jwt_unknown_key" ? .badSignature : .malformedStatement, error.detail)
        }
        guard verified.header.typ == Self.jwtType else {
            throw FederationError(.malformedStatement, "\(source): typ is '\(verified.header.typ ?? "")', not \(Self.jwtType)")
        }
        guard verified.header.kid?.isEmpty == false else { throw FederationError(.malformedStatement, "\(source): the header has no kid") }
        let c = verified.claims
        guard let iss = c["iss"]?.string, let sub = c["sub"]?.string, let iat = c["iat"]?.seconds, let exp = c["exp"]?.seconds else {
            throw FederationError(.malformedStatement, "\(source): iss, sub, iat and exp are required")
        }
        let t = now.timeIntervalSince1970
        guard iat <= t + clockSkew else { throw FederationError(.expired, "\(source): issued in the future (iat \(Int(iat)))") }
        guard exp > t - clockSkew else { throw FederationError(.expired, "\(source): expired at \(Int(exp))") }
        guard exp > iat else { throw FederationError(.malformedStatement, "\(source): exp is not after iat") }
        self.compact = compact
        claims = c
        issuer = iss
        subject = sub
        issuedAt = Date(timeIntervalSince1970: iat)
        expiresAt = Date(timeIntervalSince1970: exp)
        jwks = ownKeys
    }
}

/// Where an entity publishes its Entity Configuration: its identifier, without a trailing slash, then
/// `/.well-known/openid-federation` (OpenID Federation 1.0 §9).
public enum FederationEndpoints {
    public static let wellKnownPath = "/.well-known/openid-federation"

    public static func configurationURL(of entityID: String) -> String {
        (entityID.hasSuffix("/") ? String(entityID.dropLast()) : entityID) + wellKnownPath
    }

    /// The Subordinate Statement about `subject` from a superior's fetch endpoint.
    public static func fetchURL(_ endpoint: String, subject: String) -> String? {
        guard var components = URLComponents(string: endpoint) else { return nil }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "sub", value: subject)]
        // `+` in an entity identifier must stay itself; URLComponents leaves it as it is in a query.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string
    }

    /// An entity identifier the gateway will fetch: an absolute https URL (http only on loopback, for tests and
    /// development), without query or fragment.
    public static func isEntityIdentifier(_ value: String) -> Bool {
        guard value.utf8.count <= 512, let url = URLComponents(string: value), let scheme = url.scheme?.lowercased(),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil else { return false }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
        return scheme == "https" || (scheme == "http" && loopback)
    }
}

/// The JWK thumbprint (RFC 7638, SHA-256, base64url) an admin compares when pinning an anchor's keys.
public enum JSONWebKeyThumbprint {
    public static func sha256(_ key: JSONWebKey) -> String {
        let members: JSONObject = key.kty == "EC"
            ? ["crv": .string(key.crv ?? ""), "kty": .string("EC"), "x": .string(key.x ?? ""), "y": .string(key.y ?? "")]
            : ["e": .string(key.e ?? ""), "kty": .string(key.kty), "n": .string(key.n ?? "")]
        // RFC 7638 §3: the required members in lexicographic order, no whitespace (the writer sorts keys).
        let data = (try? members.jsonData()) ?? Data()
        return Base64URL.encode(Data(SHA256.hash(data: data)))
    }
}
