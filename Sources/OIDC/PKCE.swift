import Crypto
import Foundation

/// RFC 7636 with S256 only.
public enum PKCE {
    /// A verifier of 43–128 unreserved characters whose SHA-256 is the challenge; no verifier when the authorization
    /// request had no challenge (a client registered with PKCE optional).
    public static func verify(verifier: String?, challenge: String?) throws {
        guard let challenge else {
            guard verifier == nil else { throw OIDCError(.invalidGrant, reason: "pkce_unexpected", "code_verifier sent, but the authorization request had no code_challenge") }
            return
        }
        guard let verifier else { throw OIDCError(.invalidGrant, reason: "pkce_missing", "code_verifier is missing") }
        let unreserved = verifier.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E
        }
        guard (43...128).contains(verifier.utf8.count), unreserved else {
            throw OIDCError(.invalidGrant, reason: "pkce_verifier_format", "code_verifier must be 43-128 unreserved characters")
        }
        guard Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))) == challenge else {
            throw OIDCError(.invalidGrant, reason: "pkce_mismatch", "code_verifier does not match the code_challenge")
        }
    }
}
