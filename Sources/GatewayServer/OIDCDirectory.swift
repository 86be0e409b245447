import Crypto
import Foundation
import GatewayStorage
import Logging
import OIDC

/// The registered OIDC clients by client ID (see ``RegistrationDirectory``).
public typealias OIDCClientDirectory = RegistrationDirectory<ClientRegistration>

/// The gateway's OIDC signing keys from storage: the active ones sign, every stored one (next, active, retired) is
/// published in the JWKS. Reloaded every five seconds, so a rollover done by another instance is seen.
public actor OIDCKeyring {
    private let storage: any GatewayStorage
    private var loaded: (ids: [String], keys: ProviderKeys)?
    private var checkedAt: ContinuousClock.Instant?

    public init(storage: any GatewayStorage) {
        self.storage = storage
    }

    public func current() async throws -> ProviderKeys {
        let now = ContinuousClock.now
        if let loaded, let checkedAt, now - checkedAt < .seconds(5) { return loaded.keys }
        let records = try await storage.signingKeys(use: "oidc")
        checkedAt = now
        let ids = records.map { "\($0.id)/\($0.state.rawValue)" }
        if let loaded, loaded.ids == ids { return loaded.keys }
        var signing: [String: JWSSigningKey] = [:]
        var published: [JSONWebKey] = []
        for record in records {
            let key = try JWSSigningKey(kid: record.id, algorithm: record.algorithm, privateKeyPEM: record.privateKeyPEM)
            published.append(try key.publicJWK())
            if record.state == .active { signing[record.algorithm] = key }   // oldest first: the newest active key wins
        }
        let keys = try ProviderKeys(signing: signing, published: published, verification: try published.map(JWSVerificationKey.init))
        loaded = (ids, keys)
        return keys
    }
}

/// The key of pairwise subjects, kept in storage so every instance computes the same `sub` (a changed key would
/// give every citizen a new identity at every client). Created once, by whichever instance comes first.
public actor OIDCSubjectKey {
    static let kind = "gateway-secret"
    static let id = "oidc-subject-key"
    private let storage: any GatewayStorage
    private var identifiers: SubjectIdentifiers?

    public init(storage: any GatewayStorage) {
        self.storage = storage
    }

    public func identifiers() async throws -> SubjectIdentifiers {
        if let identifiers { return identifiers }
        if try await storage.registration(kind: Self.kind, id: Self.id) == nil {
            let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            let now = Date()
            do { try await storage.addRegistration(RegistrationRecord(kind: Self.kind, id: Self.id, json: secret, createdAt: now, updatedAt: now)) } catch let error as StorageError where error.code == .alreadyExists {
                // another instance created it first: use theirs
            }
        }
        guard let record = try await storage.registration(kind: Self.kind, id: Self.id), record.json.count == 32 else {
            throw OIDCError(.serverError, reason: "subject_key", "the stored pairwise-subject key is missing or damaged")
        }
        let made = SubjectIdentifiers(secret: record.json)
        identifiers = made
        return made
    }
}
