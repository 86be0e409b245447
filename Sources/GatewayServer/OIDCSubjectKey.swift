import Crypto
import Foundation
import GatewayStorage
import OIDC

/// The key of pairwise subjects, a gateway secret in storage so every instance computes the same `sub` (a changed key
/// would give every citizen a new identity at every client). Created once, by whichever instance comes first.
public actor OIDCSubjectKey {
    static let name = "oidc-subject-key"
    private let storage: any GatewayStorage
    private var identifiers: SubjectIdentifiers?

    public init(storage: any GatewayStorage) {
        self.storage = storage
    }

    public func identifiers() async throws -> SubjectIdentifiers {
        if let identifiers { return identifiers }
        if try await storage.gatewaySecret(name: Self.name) == nil {
            let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            do { try await storage.createGatewaySecret(GatewaySecretRecord(name: Self.name, value: secret, createdAt: Date())) } catch let error as StorageError where error.code == .alreadyExists {
                // another instance created it first: use theirs
            }
        }
        guard let record = try await storage.gatewaySecret(name: Self.name), record.value.count == 32 else {
            throw OIDCError(.serverError, reason: "subject_key", "the stored pairwise-subject key is missing or damaged")
        }
        let made = SubjectIdentifiers(secret: record.value)
        identifiers = made
        return made
    }
}
