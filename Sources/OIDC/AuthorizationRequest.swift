import Crypto
import Foundation
import LoginOutcome

/// An authorization request that passed every rule, kept with the pending login until the code is issued.
public struct ValidatedAuthorization: Sendable, Hashable, Codable {
    public var clientID: String
    public var redirectURI: String
    public var state: String?
    public var nonce: String?
    public var scopes: [String]
    /// Nil only for a client registered with PKCE optional that sent none.
    public var codeChallenge: String?
    /// The least level the client accepts (the lowest of its `acr_values`).
    public var level: SpidLevel
    /// `prompt=login` or `max_age`: the card must be presented again (no single-sign-on session).
    public var forceFresh: Bool
    public var maxAge: Int?
    /// Claims asked for in userinfo (and, for plain clients, in the ID token), of those a card supports.
    public var userinfoClaims: [String]
    public var idTokenClaims: [String]
    public var uiLocale: String?
    /// The request object's `jti` (or its hash) and expiry, for the replay cache.
    public var requestObjectID: String?
    public var requestObjectExpiry: Date?

    public init(clientID: String, redirectURI: String, state: String?, nonce: String?, scopes: [String], codeChallenge: String?, level: SpidLevel,
                forceFresh: Bool, maxAge: Int?, userinfoClaims: [String], idTokenClaims: [String], uiLocale: String?, requestObjectID: String?,
                requestObjectExpiry: Date?) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.state = state
        self.nonce = nonce
        self.scopes = scopes
        self.codeChallenge = codeChallenge
        self.level = level
        self.forceFresh = forceFresh
        self.maxAge = maxAge
        self.userinfoClaims = userinfoClaims
        self.idTokenClaims = idTokenClaims
        self.uiLocale = uiLocale
        self.requestObjectID = requestObjectID
        self.requestObjectExpiry = requestObjectExpiry
    }

    /// The attributes the consent page lists, in the order people read an identity (fiscal number, names, birth).
    public var consentAttributes: [String] {
        let asked = Set((userinfoClaims + idTokenClaims).compactMap { IdentityClaims.attributeOfClaim[$0] })
        let identity = ["fiscalNumber", "name", "familyName", "dateOfBirth", "gender", "placeOfBirth"].filter(asked.contains)
        // A refresh token lets the client come back without the citizen: the consent page names it.
        return identity + (scopes.contains("offline_access") ? ["offlineAccess"] : [])
    }
}

/// The rules of an OIDC authorization request (OIDC Core §3.1.2, RFC 7636, RFC 9101, and for `spid` clients every
/// rule of DOMAIN.md §4). No HTTP, no storage: the caller gives the parameters and a client lookup.
public struct AuthorizationRequestValidator: Sendable {
    public let provider: ProviderConfiguration
    public let client: @Sendable (String) -> ClientRegistration?
    /// The gateway's keys that open encrypted request objects, by `kid`.
    public let decryptionKeys: [String: JWEDecryptionKey]

    public init(provider: ProviderConfiguration, decryptionKeys: [String: JWEDecryptionKey] = [:],
                client: @escaping @Sendable (String) -> ClientRegistration?) {
        self.provider = provider
        self.client = client
        self.decryptionKeys = decryptionKeys
    }

    /// Validates `parameters` (the query of a GET or the form of a POST).
    public func validate(_ parameters: [String: String], now: Date) throws -> ValidatedAuthorization {
        func page(_ code: OIDCError.Code, _ reason: String, _ detail: String) -> OIDCError { OIDCError(code, reason: reason, detail, delivery: .page) }
        guard let clientID = parameters["client_id"], !clientID.isEmpty else { throw page(.invalidRequest, "no_client_id", "the request has no client_id") }
        guard let registration = client(clientID) else { throw page(.invalidClient, "unknown_client", "client '\(clientID)' is not registered") }
        // The redirect URI is trusted only when it is registered, character for character; until then errors are pages.
        let outerRedirect = parameters["redirect_uri"]
        var effective: JSONObject = parameters.mapValues(JSONValue.string)
        var requestObjectID: String?
        var requestObjectExpiry: Date?
        let early: (OIDCError.Code, String, String) -> OIDCError = { code, reason, detail in
            guard let uri = outerRedirect, registration.redirectURIs.contains(uri) else { return page(code, reason, detail) }
            return OIDCError(code, reason: reason, detail, delivery: .redirect(uri: uri, state: parameters["state"]))
        }
        if parameters["request_uri"] != nil { throw early(.requestURINotSupported, "request_uri", "request_uri is not supported; send the request object by value") }
        if parameters["registration"] != nil { throw early(.registrationNotSupported, "registration", "dynamic registration parameters are not supported") }
        if let request = parameters["request"] {
            let object = try verifyRequestObject(try openRequestObject(request, fail: early), registration: registration, now: now, fail: early)
            for (name, value) in object.claims where !["iss", "aud", "exp", "iat", "nbf", "jti"].contains(name) { effective[name] = value }
            requestObjectID = object.claims["jti"]?.string ?? Base64URL.encode(Data(SHA256.hash(data: Data(request.utf8))))
            requestObjectExpiry = object.claims["exp"]?.seconds.map { Date(timeIntervalSince1970: $0) }
            // SPID: scope, client_id and response_type are sent both ways and must agree.
            for name in ["scope", "client_id", "response_type"] {
                if registration.profile == .spid && (parameters[name] == nil || object.claims[name]?.string == nil) {
                    throw early(.invalidRequest, "request_object_mismatch", "\(name) must be sent both as a parameter and in the request object (SPID profile)")
                }
                if let outer = parameters[name], let inner = object.claims[name]?.string, outer != inner {
                    throw early(.invalidRequestObject, "request_object_mismatch", "\(name) '\(outer)' differs from the request object's '\(inner)'")
                }
            }
        } else if registration.profile == .spid {
            throw early(.invalidRequest, "request_object_required", "clients with the spid profile must send a signed request object")
        }
        guard let redirectURI = effective["redirect_uri"]?.string else { throw page(.invalidRequest, "no_redirect_uri", "the request has no redirect_uri") }
        guard registration.redirectURIs.contains(redirectURI) else {
            throw page(.invalidRequest, "redirect_uri_mismatch", "redirect_uri '\(redirectURI)' is not registered for client '\(clientID)'")
        }
        let state = effective["state"]?.string
        func fail(_ code: OIDCError.Code, _ reason: String, _ detail: String) -> OIDCError {
            OIDCError(code, reason: reason, detail, delivery: .redirect(uri: redirectURI, state: state))
        }
        if let mode = effective["response_mode"]?.string, mode != "query" {
            throw fail(.invalidRequest, "response_mode", "response_mode '\(mode)' is not supported (query only)")
        }
        guard let responseType = effective["response_type"]?.string else { throw fail(.invalidRequest, "no_response_type", "response_type is missing") }
        guard responseType == "code" else { throw fail(.unsupportedResponseType, "response_type", "response_type '\(responseType)' is not supported (code only)") }
        let scopes = (effective["scope"]?.string ?? "").split(separator: " ").map(String.init)
        guard scopes.contains("openid") else { throw fail(.invalidScope, "no_openid_scope", "the scope must contain openid") }
        let challenge = effective["code_challenge"]?.string
        if challenge == nil && registration.pkceRequired {
            throw fail(.invalidRequest, "pkce_missing", "PKCE is required: code_challenge is missing")
        }
        if let challenge {
            guard effective["code_challenge_method"]?.string == "S256" else {
                throw fail(.invalidRequest, "pkce_method", "code_challenge_method must be S256 (plain is not accepted)")
            }
            guard challenge.utf8.count == 43, Base64URL.decode(challenge)?.count == 32 else {
                throw fail(.invalidRequest, "pkce_challenge", "code_challenge is not a base64url SHA-256 (43 characters)")
            }
        }
        let nonce = effective["nonce"]?.string
        if registration.profile == .spid {
            for (name, value) in [("state", state), ("nonce", nonce)] {
                guard let value, value.utf8.count >= 32, value.utf8.count <= 512, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                    throw fail(.invalidRequest, "\(name)_format", "\(name) must be at least 32 letters and digits (SPID profile)")
                }
            }
        }
        for (name, value) in [("state", state), ("nonce", nonce)] where (value?.utf8.count ?? 0) > 512 {
            throw fail(.invalidRequest, "\(name)_format", "\(name) is longer than 512 characters")
        }
        let level = try requestedLevel(effective["acr_values"]?.string, registration: registration, fail: fail)
        let prompts = Set((effective["prompt"]?.string ?? "").split(separator: " ").map(String.init))
        guard prompts.isSubset(of: ["none", "login", "consent", "select_account"]) else {
            throw fail(.invalidRequest, "prompt", "prompt '\(prompts.sorted().joined(separator: " "))' has an unknown value")
        }
        if prompts.contains("none") {
            guard prompts.count == 1 else { throw fail(.invalidRequest, "prompt", "prompt=none cannot be combined with other values") }
            // Every login shows the citizen the consent page, so nothing can be issued without a page.
            throw fail(.loginRequired, "prompt_none", "the citizen must present the card and consent; prompt=none cannot be satisfied")
        }
        var maxAge: Int?
        if let value = effective["max_age"] {
            guard let seconds = value.seconds ?? value.string.flatMap(Double.init), seconds >= 0, seconds <= Double(Int32.max) else {
                throw fail(.invalidRequest, "max_age", "max_age must be a non-negative number of seconds")
            }
            maxAge = Int(seconds)
        }
        let (userinfoClaims, idTokenClaims) = try requestedClaims(effective["claims"], scopes: scopes, profile: registration.profile, fail: fail)
        let locale = effective["ui_locales"]?.string?.split(separator: " ").map { $0.prefix(2).lowercased() }.first { $0 == "it" || $0 == "en" }
        return ValidatedAuthorization(clientID: clientID, redirectURI: redirectURI, state: state, nonce: nonce, scopes: scopes, codeChallenge: challenge,
                                      level: level, forceFresh: prompts.contains("login") || maxAge != nil, maxAge: maxAge,
                                      userinfoClaims: userinfoClaims, idTokenClaims: idTokenClaims, uiLocale: locale,
                                      requestObjectID: requestObjectID, requestObjectExpiry: requestObjectExpiry)
    }

    /// A request object as sent: a JWS, or a JWE (RSA-OAEP(-256), to one of the gateway's `enc` keys) whose content is
    /// that JWS — signed, then encrypted (RFC 9101 §6.1); an encrypted object that is not signed inside is refused.
    func openRequestObject(_ request: String, fail: (OIDCError.Code, String, String) -> OIDCError) throws -> String {
        let parts = request.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5 else { return request }
        guard request.utf8.count <= 2 * JWS.maximumSize else { throw fail(.invalidRequestObject, "jwt_too_large", "the encrypted request object is too large") }
        let kid = Base64URL.decode(parts[0]).flatMap { try? JSONDecoder().decode(JOSEHeader.self, from: $0) }?.kid
        let candidates = kid.map { decryptionKeys[$0].map { [$0] } ?? [] } ?? Array(decryptionKeys.values)
        guard !candidates.isEmpty else {
            throw fail(.invalidRequestObject, "jwe_unknown_key", "the request object is encrypted to a key this provider does not have" + (kid.map { " (kid '\($0)')" } ?? ""))
        }
        for key in candidates {
            guard let (_, payload) = try? key.decrypt(request) else { continue }
            guard let inner = String(data: payload, encoding: .utf8), inner.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
                throw fail(.invalidRequestObject, "jwe_not_signed", "an encrypted request object must contain a signed JWT")
            }
            return inner
        }
        throw fail(.invalidRequestObject, "jwe_decrypt", "the request object cannot be decrypted (algorithm, key or authentication tag)")
    }

    /// RFC 9101: signed by one of the client's keys, issued by the client for this provider, fresh, not a JWT meant
    /// as a client assertion (`sub` is refused, DOMAIN.md §4).
    func verifyRequestObject(_ request: String, registration: ClientRegistration, now: Date,
                             fail: (OIDCError.Code, String, String) -> OIDCError) throws -> VerifiedJWS {
        let object: VerifiedJWS
        do {
            object = try JWS.verify(request, keys: registration.signingKeys, allowed: ProviderConfiguration.clientSigningAlgorithms,
                                    purpose: "request object", error: .invalidRequestObject)
        } catch let error as OIDCError { throw fail(.invalidRequestObject, error.reason, error.detail) }
        let c = object.claims
        guard c["iss"]?.string == registration.clientID else {
            throw fail(.invalidRequestObject, "request_object_issuer", "the request object's iss '\(c["iss"]?.string ?? "")' is not the client '\(registration.clientID)'")
        }
        if let inner = c["client_id"]?.string, inner != registration.clientID {
            throw fail(.invalidRequestObject, "request_object_client", "the request object is for client '\(inner)', not '\(registration.clientID)'")
        }
        guard c["aud"]?.strings?.contains(provider.issuer) == true else {
            throw fail(.invalidRequestObject, "request_object_audience", "the request object's aud does not name this provider (\(provider.issuer))")
        }
        guard c["sub"] == nil else { throw fail(.invalidRequestObject, "request_object_sub", "a request object must not carry sub") }
        try checkLifetime(c, now: now, purpose: "request object") { fail(.invalidRequestObject, $0, $1) }
        return object
    }

    /// `exp` in the future, `iat` not in the future, `nbf` passed, and a lifetime no longer than the maximum.
    func checkLifetime(_ c: JSONObject, now: Date, purpose: String, fail: (String, String) -> OIDCError) throws {
        let t = now.timeIntervalSince1970
        guard let exp = c["exp"]?.seconds else { throw fail("jwt_no_exp", "the \(purpose) has no exp") }
        guard exp > t - provider.clockSkew else { throw fail("jwt_expired", "the \(purpose) expired at \(Int(exp))") }
        guard let iat = c["iat"]?.seconds, iat <= t + provider.clockSkew else { throw fail("jwt_iat", "the \(purpose) has no iat or one in the future") }
        guard exp - iat <= provider.maximumClientJWTLifetime else {
            throw fail("jwt_lifetime", "the \(purpose) lives \(Int(exp - iat)) s; at most \(Int(provider.maximumClientJWTLifetime)) s are accepted")
        }
        if let nbf = c["nbf"]?.seconds, nbf > t + provider.clockSkew { throw fail("jwt_nbf", "the \(purpose) is not valid yet") }
    }

    /// The least of the requested SPID levels (`acr_values` lists what the client accepts, in its preference order;
    /// a higher level may always be given). None requested: SpidL1 is the floor.
    func requestedLevel(_ acrValues: String?, registration: ClientRegistration, fail: (OIDCError.Code, String, String) -> OIDCError) throws -> SpidLevel {
        let values = (acrValues ?? "").split(separator: " ").map(String.init)
        let levels = values.compactMap { v in SpidLevel.allCases.first { $0.uri == v } }
        if !values.isEmpty && levels.isEmpty {
            throw fail(.invalidRequest, "acr_values", "acr_values names no SPID level (\(SpidLevel.allCases.map(\.uri).joined(separator: ", ")))")
        }
        let level = levels.min() ?? .spidL1
        guard level <= registration.maximumLevel else {
            throw fail(.accessDenied, "level_above_client_maximum", "client '\(registration.clientID)' may ask for at most \(registration.maximumLevel.uri)")
        }
        return level
    }

    /// The claims asked for, from `claims` (OIDC Core §5.5) and `scope=profile`, keeping those a card supports. For
    /// `spid` clients identity claims go to userinfo only (DOMAIN.md §4).
    func requestedClaims(_ claims: JSONValue?, scopes: [String], profile: ClientRegistration.Profile,
                         fail: (OIDCError.Code, String, String) -> OIDCError) throws -> ([String], [String]) {
        var requested: JSONObject = [:]
        if let claims {
            let parsed: JSONObject?
            switch claims {
            case .object(let o): parsed = o
            case .string(let s): parsed = try? JSONObject.parse(Data(s.utf8))
            default: parsed = nil
            }
            guard let parsed else { throw fail(.invalidRequest, "claims_parameter", "the claims parameter is not a JSON object") }
            requested = parsed
        }
        func names(_ member: String) throws -> [String] {
            guard let value = requested[member] else { return [] }
            guard let object = value.object else { throw fail(.invalidRequest, "claims_parameter", "claims.\(member) is not a JSON object") }
            return object.keys.sorted().filter { IdentityClaims.attributeOfClaim[$0] != nil }
        }
        var userinfo = try names("userinfo")
        var idToken = try names("id_token")
        if scopes.contains("profile") { userinfo += IdentityClaims.profileScope.filter { !userinfo.contains($0) } }
        if profile == .spid {
            userinfo += idToken.filter { !userinfo.contains($0) }
            idToken = []
        }
        return (userinfo, idToken)
    }
}
