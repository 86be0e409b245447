import Crypto
import Foundation
import LoginOutcome

/// How an automatically registered relying party is trusted: through which anchor, until when, as whom.
public struct FederationMembership: Sendable, Hashable, Codable {
    public var trustAnchor: String
    /// The earliest expiry on its trust chain (and of the trust marks checked).
    public var expiresAt: Date
    public var resolvedAt: Date
    /// The organisation's name from its `federation_entity` metadata (or its `client_name`).
    public var organizationName: String?
    public var trustMarks: [String]
    /// Entity identifiers from the relying party up to the anchor.
    public var path: [String]

    public init(trustAnchor: String, expiresAt: Date, resolvedAt: Date, organizationName: String?, trustMarks: [String], path: [String]) {
        self.trustAnchor = trustAnchor
        self.expiresAt = expiresAt
        self.resolvedAt = resolvedAt
        self.organizationName = organizationName
        self.trustMarks = trustMarks
        self.path = path
    }
}

/// A registered OIDC relying party, as `cnsgw client add` stores it (storage kind `oidc-client`).
public struct ClientRegistration: Sendable, Hashable, Codable {
    public static let storageKind = "oidc-client"

    /// `spid`: every rule of the SPID/CIE OIDC profile (signed request objects, private_key_jwt, signed userinfo, no
    /// prompt=none). `plain`: an ordinary OIDC client (request objects optional, client secrets allowed, JSON userinfo).
    public enum Profile: String, Sendable, Hashable, Codable, CaseIterable { case spid, plain }
    public enum Authentication: String, Sendable, Hashable, Codable, CaseIterable {
        case privateKeyJWT = "private_key_jwt"
        case clientSecretBasic = "client_secret_basic"
        case clientSecretPost = "client_secret_post"
    }
    public enum SubjectType: String, Sendable, Hashable, Codable, CaseIterable { case pairwise, `public` }

    public var clientID: String
    public var profile: Profile
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    public var authentication: Authentication
    /// The client's keys (signature keys verify request objects and client assertions; an `enc` RSA key makes
    /// userinfo encrypted). Stored inline; `jwksURI` records where they came from.
    public var jwks: JSONWebKeySet?
    public var jwksURI: String?
    /// When the keys were last fetched from `jwksURI`, and why the last refresh failed (the last good keys stay).
    public var jwksFetchedAt: Date?
    public var lastRefreshError: String?
    /// Lowercase hex SHA-256 of the generated client secret (the secret is 256 random bits, shown once; a plain
    /// hash is enough for a secret that cannot be guessed, unlike a password).
    public var secretHash: String?
    public var subjectType: SubjectType
    /// The highest level this client may ask for; a request above it is refused.
    public var maximumLevel: SpidLevel
    public var backchannelLogoutURI: String?
    /// Content encryption for userinfo when the JWKS has an encryption key.
    public var userinfoEncryption: JWE.ContentAlgorithm
    public var userinfoKeyEncryption: JWE.KeyAlgorithm
    /// `RS256` (the profile's required algorithm) or `ES256`: what ID tokens and userinfo JWTs are signed with.
    public var idTokenSigningAlgorithm: String
    /// Encrypt ID tokens too (signed, then encrypted to the client's `enc` key, `cty: JWT`), as userinfo is.
    public var encryptIDToken: Bool = false
    /// PKCE on every authorization request (default). Only a plain client may be registered without it (`--pkce
    /// optional`), for relying parties or test suites that cannot send it; `plain` challenges are refused regardless.
    public var pkceRequired: Bool
    /// The name shown to citizens: the admin's `--display-name`, or the `client_name` of a federation member's metadata.
    public var displayName: String?
    /// Set for a relying party registered automatically from its OpenID Federation trust chain; nil for one an
    /// admin added. Such a registration holds until `federation.expiresAt`, then the chain is resolved again.
    public var federation: FederationMembership?

    public init(clientID: String, profile: Profile, redirectURIs: [String], postLogoutRedirectURIs: [String] = [], authentication: Authentication,
                jwks: JSONWebKeySet? = nil, jwksURI: String? = nil, secretHash: String? = nil, subjectType: SubjectType = .pairwise,
                maximumLevel: SpidLevel = .spidL3, backchannelLogoutURI: String? = nil,
                userinfoEncryption: JWE.ContentAlgorithm = .a256cbcHS512, userinfoKeyEncryption: JWE.KeyAlgorithm = .rsaOAEP256, idTokenSigningAlgorithm: String = "RS256", pkceRequired: Bool = true) {
        self.clientID = clientID
        self.profile = profile
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.authentication = authentication
        self.jwks = jwks
        self.jwksURI = jwksURI
        self.secretHash = secretHash
        self.subjectType = subjectType
        self.maximumLevel = maximumLevel
        self.backchannelLogoutURI = backchannelLogoutURI
        self.userinfoEncryption = userinfoEncryption
        self.userinfoKeyEncryption = userinfoKeyEncryption
        self.idTokenSigningAlgorithm = idTokenSigningAlgorithm
        self.pkceRequired = pkceRequired
    }

    /// The name citizens know the client by: its display name, else its federation organisation's name.
    public var serviceName: String? { displayName ?? federation?.organizationName }

    /// Stored registrations written by an earlier version lack the newer members: they get their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clientID = try c.decode(String.self, forKey: .clientID)
        profile = try c.decode(Profile.self, forKey: .profile)
        redirectURIs = try c.decode([String].self, forKey: .redirectURIs)
        postLogoutRedirectURIs = try c.decodeIfPresent([String].self, forKey: .postLogoutRedirectURIs) ?? []
        authentication = try c.decode(Authentication.self, forKey: .authentication)
        jwks = try c.decodeIfPresent(JSONWebKeySet.self, forKey: .jwks)
        jwksURI = try c.decodeIfPresent(String.self, forKey: .jwksURI)
        jwksFetchedAt = try c.decodeIfPresent(Date.self, forKey: .jwksFetchedAt)
        lastRefreshError = try c.decodeIfPresent(String.self, forKey: .lastRefreshError)
        secretHash = try c.decodeIfPresent(String.self, forKey: .secretHash)
        subjectType = try c.decodeIfPresent(SubjectType.self, forKey: .subjectType) ?? .pairwise
        maximumLevel = try c.decodeIfPresent(SpidLevel.self, forKey: .maximumLevel) ?? .spidL3
        backchannelLogoutURI = try c.decodeIfPresent(String.self, forKey: .backchannelLogoutURI)
        userinfoEncryption = try c.decodeIfPresent(JWE.ContentAlgorithm.self, forKey: .userinfoEncryption) ?? .a256cbcHS512
        userinfoKeyEncryption = try c.decodeIfPresent(JWE.KeyAlgorithm.self, forKey: .userinfoKeyEncryption) ?? .rsaOAEP256
        idTokenSigningAlgorithm = try c.decodeIfPresent(String.self, forKey: .idTokenSigningAlgorithm) ?? "RS256"
        encryptIDToken = try c.decodeIfPresent(Bool.self, forKey: .encryptIDToken) ?? false
        pkceRequired = try c.decodeIfPresent(Bool.self, forKey: .pkceRequired) ?? true
        federation = try c.decodeIfPresent(FederationMembership.self, forKey: .federation)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
    }

    /// Checks a registration before it is stored: what the profile requires and what makes a client unusable.
    public func validate() throws {
        func refuse(_ detail: String) -> OIDCError { OIDCError(.invalidClient, reason: "bad_registration", "client \(clientID): \(detail)") }
        guard !clientID.isEmpty, clientID.utf8.count <= 512 else { throw refuse("the client ID must be 1-512 characters") }
        guard !redirectURIs.isEmpty else { throw refuse("at least one redirect URI is required") }
        for uri in redirectURIs + postLogoutRedirectURIs + [backchannelLogoutURI].compactMap({ $0 }) {
            guard let url = URLComponents(string: uri), let scheme = url.scheme?.lowercased(), url.host?.isEmpty == false, url.fragment == nil else {
                throw refuse("'\(uri)' is not an absolute URI without a fragment")
            }
            let loopback = ["127.0.0.1", "localhost", "[::1]", "::1"].contains(url.host!.lowercased())
            guard scheme == "https" || (scheme == "http" && loopback) else { throw refuse("'\(uri)' must use https (http only for loopback addresses)") }
        }
        guard ["RS256", "ES256"].contains(idTokenSigningAlgorithm) else { throw refuse("ID tokens are signed with RS256 or ES256, not \(idTokenSigningAlgorithm)") }
        switch profile {
        case .spid:
            guard authentication == .privateKeyJWT else { throw refuse("the spid profile requires private_key_jwt client authentication") }
            guard subjectType == .pairwise else { throw refuse("the spid profile requires pairwise subjects") }
            guard pkceRequired else { throw refuse("the spid profile requires PKCE") }
            guard URLComponents(string: clientID)?.scheme == "https" || clientID.hasPrefix("http://127.0.0.1") || clientID.hasPrefix("http://localhost") else {
                throw refuse("the spid profile requires the client ID to be the client's HTTPS URL")
            }
        case .plain: break
        }
        if encryptIDToken && encryptionKey == nil { throw refuse("encrypted ID tokens need an RSA key with \"use\": \"enc\" in the JWKS") }
        if authentication == .privateKeyJWT {
            guard let jwks, jwks.keys.contains(where: \.isForSigning) else { throw refuse("private_key_jwt requires a JWKS with a signing key (--jwks)") }
        } else {
            guard secretHash != nil else { throw refuse("\(authentication.rawValue) requires a client secret") }
        }
    }

    /// The signature keys of the client.
    public var signingKeys: [JSONWebKey] { jwks?.keys.filter(\.isForSigning) ?? [] }
    /// The RSA key userinfo is encrypted to, if the client registered one.
    public var encryptionKey: JSONWebKey? { jwks?.keys.first { $0.isForEncryption && $0.kty == "RSA" } }

    /// The pairwise sector: the host of the redirect URIs (OIDC Core §8.1; one host is required for pairwise clients
    /// without a sector_identifier_uri, which the gateway does not fetch).
    public var sector: String {
        let hosts = Set(redirectURIs.compactMap { URLComponents(string: $0)?.host?.lowercased() })
        return hosts.count == 1 ? hosts.first! : clientID
    }

    /// Generates a client secret (shown once) and its stored hash.
    public static func generateSecret() -> (secret: String, hash: String) {
        let key = SymmetricKey(size: .bits256)
        let secret = key.withUnsafeBytes { Base64URL.encode(Data($0)) }
        return (secret, hashSecret(secret))
    }

    public static func hashSecret(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
