import Foundation

/// Checks the gateway's own access tokens (userinfo, introspection): signed by one of its published keys, `typ`
/// `at+jwt`, issued by it for its userinfo endpoint, not expired. Whether the grant is still alive is storage's.
public struct AccessTokenVerifier: Sendable {
    public let provider: ProviderConfiguration

    public init(provider: ProviderConfiguration) {
        self.provider = provider
    }

    public func verify(_ token: String, keys: [JWSVerificationKey], now: Date) throws -> JSONObject {
        func invalid(_ reason: String, _ detail: String) -> OIDCError { OIDCError(.invalidToken, reason: reason, detail) }
        let verified: VerifiedJWS
        do {
            verified = try JWS.verify(token, keys: keys, allowed: [.rs256, .es256], purpose: "access token", error: .invalidToken)
        } catch let error as OIDCError { throw invalid(error.reason, error.detail) }
        guard verified.header.typ?.lowercased() == "at+jwt" else { throw invalid("not_access_token", "the token is not an access token (typ at+jwt)") }
        let c = verified.claims
        guard c["iss"]?.string == provider.issuer, c["aud"]?.strings?.contains(provider.userinfoEndpoint) == true else {
            throw invalid("token_audience", "the access token was not issued by this provider for its userinfo endpoint")
        }
        guard let exp = c["exp"]?.seconds, exp > now.timeIntervalSince1970 else { throw invalid("token_expired", "the access token has expired") }
        guard c["cnsgw_grant"]?.string != nil, c["client_id"]?.string != nil else { throw invalid("token_malformed", "the access token names no grant") }
        return c
    }
}
