import Foundation
import OIDC
import OutboundHTTP

/// A trust anchor the admin pinned: its entity identifier and federation keys (never fetched unchecked), and the
/// trust marks a relying party below it must carry.
public struct FederationTrustAnchor: Sendable, Hashable, Codable {
    public static let storageKind = "federation-anchor"

    public var entityID: String
    public var jwks: JSONWebKeySet
    /// The trust marks every relying party resolved through this anchor must carry: each entry one type, or
    /// alternatives separated by `|` of which one suffices (SPID: `…/rp/public|…/rp/private`).
    public var requiredTrustMarks: [String]

    public init(entityID: String, jwks: JSONWebKeySet, requiredTrustMarks: [String] = []) {
        self.entityID = entityID
        self.jwks = jwks
        self.requiredTrustMarks = requiredTrustMarks
    }
}

/// An entity whose trust chain reached a pinned anchor: its metadata of one type after every superior's policy, and
/// how long that holds (the earliest `exp` on the chain and of the trust marks used).
public struct ResolvedEntity: Sendable, Hashable {
    public let entityID: String
    public let entityType: String
    public let trustAnchor: String
    /// The metadata of `entityType`, policies applied.
    public let metadata: JSONObject
    /// The entity's `federation_entity` metadata as it published it (organisation name, homepage, contacts).
    public let federationEntity: JSONObject
    public let expiresAt: Date
    /// Entity identifiers from the entity up to the anchor.
    public let path: [String]
    /// The trust mark types that verified.
    public let trustMarks: [String]
    /// Statements fetched and verified (Entity Configurations and Subordinate Statements).
    public let statementCount: Int
}

/// Resolves trust chains (OpenID Federation 1.0 §10): from an entity's Entity Configuration up its `authority_hints`,
/// fetching each superior's Entity Configuration and its Subordinate Statement about the entity below, verifying
/// every signature down from a pinned anchor, every lifetime, and every `iss`/`sub`; then combining the metadata
/// policies and checking the required trust marks. Fetches go through the caller's ``HTTPTransport`` (the gateway's
/// guarded client: no redirects, size limits, deadlines, internal addresses refused); their number and the chain's
/// length are bounded.
public struct TrustChainResolver: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Superiors between an entity and its anchor (SPID/CIE: none for an OP, one aggregator for an RP).
        public var maximumIntermediates: Int
        /// Statements fetched for one resolution, trust mark issuers included.
        public var maximumFetches: Int
        /// `authority_hints` followed per entity.
        public var maximumAuthorityHints: Int
        public var maximumStatementBytes: Int
        public var timeout: TimeInterval
        public var clockSkew: TimeInterval

        public init(maximumIntermediates: Int = 1, maximumFetches: Int = 12, maximumAuthorityHints: Int = 4, maximumStatementBytes: Int = 65_536,
                    timeout: TimeInterval = 5, clockSkew: TimeInterval = 60) {
            self.maximumIntermediates = maximumIntermediates
            self.maximumFetches = maximumFetches
            self.maximumAuthorityHints = maximumAuthorityHints
            self.maximumStatementBytes = maximumStatementBytes
            self.timeout = timeout
            self.clockSkew = clockSkew
        }
    }

    public static let trustMarkType = "trust-mark+jwt"

    public let anchors: [String: FederationTrustAnchor]
    public let transport: any HTTPTransport
    public let limits: Limits

    public init(anchors: [FederationTrustAnchor], transport: any HTTPTransport, limits: Limits = Limits()) {
        self.anchors = Dictionary(anchors.map { ($0.entityID, $0) }, uniquingKeysWith: { first, _ in first })
        self.transport = transport
        self.limits = limits
    }

    /// Resolves `entityID` for its `entityType` metadata (`openid_relying_party` for a client).
    public func resolve(_ entityID: String, entityType: String, now: Date) async throws -> ResolvedEntity {
        guard FederationEndpoints.isEntityIdentifier(entityID) else {
            throw FederationError(.malformedStatement, "'\(entityID)' is not an entity identifier (an https URL without query or fragment)")
        }
        guard !anchors.isEmpty else { throw FederationError(.noTrustAnchor, "no trust anchor is configured (cnsgw federation anchor add)") }
        var run = Resolution(resolver: self, now: now)
        let leaf = try await run.configuration(of: entityID, keys: nil)
        guard let published = leaf.metadata[entityType]?.object else {
            throw FederationError(.noMetadata, "the Entity Configuration of \(entityID) has no \(entityType) metadata")
        }
        let (steps, anchor) = try await run.climb(from: leaf, intermediates: 0)
        // Policies combine from the anchor down; the immediate superior's own `metadata` overrides the leaf's (§6.1.4.1).
        var policy = try MetadataPolicy(source: "no policy")
        for step in steps.reversed() {
            let own = step.statement.metadataPolicy[entityType]?.object ?? [:]
            policy = try policy.combined(with: MetadataPolicy(own, critical: step.statement.criticalPolicyOperators, source: "policy of \(step.statement.issuer)"),
                                         source: "policy of \(step.statement.issuer)")
        }
        var metadata = published
        for (name, value) in steps[0].statement.metadata[entityType]?.object ?? [:] { metadata[name] = value }
        metadata = try policy.apply(to: metadata, entityType: entityType)
        var expiry = ([leaf.expiresAt] + steps.flatMap { [$0.superior.expiresAt, $0.statement.expiresAt] }).min()!
        var marks: [String] = []
        for requirement in anchor.requiredTrustMarks {
            let (type, markExpiry) = try await run.trustMark(oneOf: requirement.split(separator: "|").map(String.init), of: leaf, anchor: anchor,
                                                             anchorConfiguration: steps.last!.superior)
            if let markExpiry { expiry = min(expiry, markExpiry) }
            marks.append(type)
        }
        return ResolvedEntity(entityID: entityID, entityType: entityType, trustAnchor: anchor.entityID, metadata: metadata,
                              federationEntity: leaf.metadata["federation_entity"]?.object ?? [:], expiresAt: expiry,
                              path: [entityID] + steps.map(\.superior.subject), trustMarks: marks, statementCount: run.fetches)
    }
}

/// One superior on a chain: its Entity Configuration and its Subordinate Statement about the entity below.
struct ChainStep: Sendable {
    let superior: EntityStatement
    let statement: EntityStatement
}

/// The state of one resolution: the clock and the fetches spent.
struct Resolution {
    let resolver: TrustChainResolver
    let now: Date
    var fetches = 0

    var limits: TrustChainResolver.Limits { resolver.limits }

    mutating func fetch(_ url: String, what: String) async throws -> String {
        fetches += 1
        guard fetches <= limits.maximumFetches else {
            throw FederationError(.chainTooLong, "resolving needed more than \(limits.maximumFetches) fetches (at \(what))")
        }
        let fetched: HTTPFetch
        do {
            fetched = try await resolver.transport.get(url: url, ifNoneMatch: nil, ifModifiedSince: nil, timeout: limits.timeout,
                                                       maximumBytes: limits.maximumStatementBytes)
        } catch {
            throw FederationError(.fetchFailed, "\(what) could not be fetched from \(url): \(error)")
        }
        guard case .body(let bytes, _, _) = fetched, let text = String(bytes: bytes, encoding: .utf8) else {
            throw FederationError(.fetchFailed, "\(what) from \(url) is empty or not text")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func statement(_ compact: String, keys: [JSONWebKey]?, source: String) throws -> EntityStatement {
        try EntityStatement(verifying: compact, keys: keys, now: now, clockSkew: limits.clockSkew, source: source)
    }

    /// The Entity Configuration of `entityID`, self-signed (or, for a trust anchor, signed with its pinned keys).
    mutating func configuration(of entityID: String, keys: [JSONWebKey]?) async throws -> EntityStatement {
        let what = "the Entity Configuration of \(entityID)"
        let ec = try statement(try await fetch(FederationEndpoints.configurationURL(of: entityID), what: what), keys: keys, source: what)
        guard ec.issuer == entityID, ec.subject == entityID else {
            throw FederationError(.wrongSubject, "\(what) names iss '\(ec.issuer)' and sub '\(ec.subject)'")
        }
        return ec
    }

    /// The superiors from `subject` up to a pinned anchor, following `authority_hints` depth-first.
    mutating func climb(from subject: EntityStatement, intermediates: Int) async throws -> ([ChainStep], FederationTrustAnchor) {
        let hints = subject.authorityHints
        guard !hints.isEmpty else {
            throw FederationError(.noTrustAnchor, "\(subject.subject) names no authority_hints and is not a pinned trust anchor")
        }
        var failure: FederationError?
        for hint in hints.prefix(limits.maximumAuthorityHints) where hint != subject.subject {
            do {
                if let anchor = resolver.anchors[hint] {
                    let pinned = anchor.jwks.keys
                    let config = try await configuration(of: hint, keys: pinned)
                    let statement = try await subordinate(from: config, about: subject, keys: pinned)
                    return ([ChainStep(superior: config, statement: statement)], anchor)
                }
                guard intermediates < limits.maximumIntermediates else {
                    throw FederationError(.chainTooLong, "\(subject.subject) reaches no pinned anchor within \(limits.maximumIntermediates) intermediate(s) (next: \(hint))")
                }
                guard FederationEndpoints.isEntityIdentifier(hint) else {
                    throw FederationError(.malformedStatement, "the authority hint '\(hint)' of \(subject.subject) is not an entity identifier")
                }
                let superior = try await configuration(of: hint, keys: nil)
                let statement = try await subordinate(from: superior, about: subject, keys: superior.jwks)
                let (rest, anchor) = try await climb(from: superior, intermediates: intermediates + 1)
                return ([ChainStep(superior: superior, statement: statement)] + rest, anchor)
            } catch let error as FederationError {
                if error.code == .chainTooLong && fetches >= limits.maximumFetches { throw error }
                failure = failure.map { $0.code == .noTrustAnchor ? error : $0 } ?? error
            }
        }
        throw failure ?? FederationError(.noTrustAnchor, "no authority hint of \(subject.subject) could be followed")
    }

    /// The superior's Subordinate Statement about `subject`, signed with `keys`, whose `jwks` must be the keys
    /// `subject`'s own Entity Configuration is signed with.
    mutating func subordinate(from superior: EntityStatement, about subject: EntityStatement, keys: [JSONWebKey]) async throws -> EntityStatement {
        let what = "the Subordinate Statement of \(superior.subject) about \(subject.subject)"
        guard let endpoint = superior.fetchEndpoint, FederationEndpoints.isEntityIdentifier(endpoint.components(separatedBy: "?")[0]),
              let url = FederationEndpoints.fetchURL(endpoint, subject: subject.subject) else {
            throw FederationError(.malformedStatement, "\(superior.subject) publishes no usable federation_fetch_endpoint")
        }
        let statement = try statement(try await fetch(url, what: what), keys: keys, source: what)
        guard statement.issuer == superior.subject, statement.subject == subject.subject else {
            throw FederationError(.wrongSubject, "\(what) names iss '\(statement.issuer)' and sub '\(statement.subject)'")
        }
        do {
            _ = try self.statement(subject.compact, keys: statement.jwks, source: "the Entity Configuration of \(subject.subject)")
        } catch let error as FederationError where error.code == .badSignature {
            throw FederationError(.badSignature, "the Entity Configuration of \(subject.subject) is not signed with a key \(superior.subject) vouches for")
        }
        return statement
    }

    /// Checks that `leaf` carries a valid trust mark of `type`: issued to it by the anchor or an issuer the anchor
    /// lists for that type (whose own chain reaches the same anchor), signed, and unexpired. Returns its expiry.
    mutating func trustMark(oneOf types: [String], of leaf: EntityStatement, anchor: FederationTrustAnchor,
                            anchorConfiguration: EntityStatement) async throws -> (type: String, expiry: Date?) {
        let candidates = leaf.trustMarks.filter { types.contains($0.type) }
        guard !candidates.isEmpty else {
            throw FederationError(.trustMark, "\(leaf.subject) carries no trust mark of type \(types.joined(separator: " or "))")
        }
        var failure: FederationError?
        for candidate in candidates {
            do {
                let expiry = try await verifyTrustMark(candidate.jwt, type: candidate.type, subject: leaf.subject, anchor: anchor,
                                                       anchorConfiguration: anchorConfiguration)
                return (candidate.type, expiry)
            } catch let error as FederationError { failure = error }
        }
        throw failure!
    }

    mutating func verifyTrustMark(_ jwt: String, type: String, subject: String, anchor: FederationTrustAnchor, anchorConfiguration: EntityStatement) async throws -> Date? {
        func fail(_ why: String) -> FederationError { FederationError(.trustMark, "the \(type) trust mark of \(subject) \(why)") }
        guard let issuer = JWS.unverifiedClaims(jwt)?["iss"]?.string else { throw fail("is not a JWT with an iss") }
        let keys: [JSONWebKey]
        if issuer == anchor.entityID {
            keys = anchor.jwks.keys
        } else {
            guard anchorConfiguration.trustMarkIssuers[type]?.contains(issuer) == true else {
                throw fail("is issued by \(issuer), which the trust anchor does not list for this type")
            }
            let issuerConfiguration = try await configuration(of: issuer, keys: nil)
            let (_, reached) = try await climb(from: issuerConfiguration, intermediates: 0)
            guard reached.entityID == anchor.entityID else { throw fail("is issued by \(issuer), whose chain reaches another anchor") }
            keys = issuerConfiguration.jwks
        }
        let verified: VerifiedJWS
        do {
            verified = try JWS.verify(jwt, keys: keys, allowed: EntityStatement.algorithms, purpose: "trust mark")
        } catch let error as OIDCError { throw fail("does not verify: \(error.detail)") }
        guard verified.header.typ == TrustChainResolver.trustMarkType else { throw fail("has typ '\(verified.header.typ ?? "")', not \(TrustChainResolver.trustMarkType)") }
        let c = verified.claims
        guard c["sub"]?.string == subject else { throw fail("is issued to '\(c["sub"]?.string ?? "")'") }
        guard (c["trust_mark_type"] ?? c["trust_mark_id"] ?? c["id"])?.string == type else { throw fail("names another trust mark type") }
        let t = now.timeIntervalSince1970
        guard let iat = c["iat"]?.seconds, iat <= t + limits.clockSkew else { throw fail("has no iat or one in the future") }
        if let exp = c["exp"]?.seconds {
            guard exp > t - limits.clockSkew else { throw fail("expired at \(Int(exp))") }
            return Date(timeIntervalSince1970: exp)
        }
        return nil
    }
}
