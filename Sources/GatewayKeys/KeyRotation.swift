import Foundation
import GatewayStorage

/// Rollover of the gateway's signing keys, safe when several instances share one store: a new key is published as
/// `next` first (SAML metadata, OIDC JWKS) and signs only after `publishDelay`, when relying parties have had time to
/// fetch it; the key it replaces retires and stays published until `retention` has passed, so everything it signed
/// can still be verified; then housekeeping removes it. Every step is a compare-and-swap on the stored key, so two
/// instances doing the same step at once cannot both succeed.
public struct KeyRotation: Sendable {
    public struct Policy: Sendable, Hashable {
        /// How long a new key is published before it signs.
        public var publishDelay: TimeInterval
        /// How long a retired key stays published.
        public var retention: TimeInterval
        /// An active key older than this is rotated automatically (0: never).
        public var rotateEvery: TimeInterval

        public init(publishDelay: TimeInterval = 86_400, retention: TimeInterval = 86_400, rotateEvery: TimeInterval = 90 * 86_400) {
            self.publishDelay = publishDelay
            self.retention = retention
            self.rotateEvery = rotateEvery
        }
    }

    public typealias Generator = @Sendable (_ use: String, _ algorithm: String, _ now: Date) throws -> SigningKeyRecord
    public let storage: any GatewayStorage
    public let policy: Policy
    public let generate: Generator

    public init(storage: any GatewayStorage, policy: Policy, generate: @escaping Generator) {
        self.storage = storage
        self.policy = policy
        self.generate = generate
    }

    /// Adds a `next` key for each (use, algorithm) that has an active key and no next one. Returns the new keys.
    @discardableResult
    public func rotate(uses: [String], now: Date) async throws -> [SigningKeyRecord] {
        var added: [SigningKeyRecord] = []
        for use in uses {
            let keys = try await storage.signingKeys(use: use)
            for algorithm in Set(keys.filter { $0.state == .active }.map(\.algorithm)).sorted()
            where !keys.contains(where: { $0.algorithm == algorithm && $0.state == .next }) {
                let key = try generate(use, algorithm, now)
                do {
                    try await storage.addSigningKey(key)
                    added.append(key)
                } catch let error as StorageError where error.code == .alreadyExists {
                    continue   // another instance published a next key of this kind a moment ago: it stands
                }
            }
        }
        return added
    }

    /// Promotes `next` keys published for `publishDelay`, retiring the active key they replace; rotates active keys
    /// older than `rotateEvery`. Returns what changed, for the audit log.
    public func runDue(uses: [String], now: Date) async throws -> [String] {
        var changes: [String] = []
        for use in uses {
            let keys = try await storage.signingKeys(use: use)
            for next in keys where next.state == .next && next.createdAt + policy.publishDelay <= now {
                guard (try? await storage.updateSigningKey(id: next.id, { k in
                    guard k.state == .next else { throw StorageError(.conflict, "already promoted") }
                    var promoted = k
                    promoted.state = .active
                    return promoted
                })) != nil else { continue }   // another instance promoted it
                changes.append("\(use)/\(next.algorithm): \(next.id) active")
                for old in keys where old.state == .active && old.algorithm == next.algorithm && old.id != next.id {
                    if (try? await storage.updateSigningKey(id: old.id, { k in
                        guard k.state == .active else { throw StorageError(.conflict, "already retired") }
                        var retired = k
                        retired.state = .retired
                        retired.removeAfter = now + policy.retention
                        return retired
                    })) != nil { changes.append("\(use)/\(old.algorithm): \(old.id) retired") }
                }
            }
            if policy.rotateEvery > 0 {
                let stale = keys.filter { $0.state == .active && $0.createdAt + policy.rotateEvery <= now }
                if !stale.isEmpty { changes += try await rotate(uses: [use], now: now).map { "\(use)/\($0.algorithm): \($0.id) published as next" } }
            }
        }
        return changes
    }
}
