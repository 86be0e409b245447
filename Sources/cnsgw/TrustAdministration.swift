import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage

/// Adds a trusted CA to storage and records the change in the audit log; `false` when it was already trusted.
/// Shared by `cnsgw ca add` and the embedded default of `cnsgw serve`.
@discardableResult
func addTrustedCA(_ cert: X509Certificate, name: String, policy: AnchorPolicy, storage: any GatewayStorage, by actor: String) async throws -> Bool {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let policyJSON = try encoder.encode(policy)
    do {
        try await storage.addTrustedCA(TrustedCARecord(id: cert.fingerprintHex, name: name, certificateDER: Data(cert.derBytes),
                                                       policyJSON: policyJSON, addedAt: Date()))
    } catch let e as StorageError where e.code == .alreadyExists {
        return false
    }
    try await AuditLog(storage: storage).append(kind: "admin", fields: [
        "action": "ca.add", "id": cert.fingerprintHex, "name": name, "subject": cert.subject,
        "policy": String(decoding: policyJSON, as: UTF8.self), "by": actor,
    ])
    return true
}
