import Crypto
import Foundation

/// Subjects: pairwise per client sector (OIDC Core §8.1) or one public value across clients; both are keyed
/// hashes of the codice fiscale, so no client learns it from `sub` and none can link across sectors.
public struct SubjectIdentifiers: Sendable {
    let key: SymmetricKey

    public init(secret: Data) {
        key = SymmetricKey(data: secret)
    }

    public func subject(codiceFiscale: String, for client: ClientRegistration) -> String {
        let sector = client.subjectType == .public ? "public" : "pairwise:" + client.sector
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data((sector + "\n" + codiceFiscale).utf8), using: key)))
    }
}
