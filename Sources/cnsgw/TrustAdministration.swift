import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import KeyMaterial
import OutboundHTTP

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

/// The bytes of an admin-given source: an http(s) URL (downloaded with a hard size limit) or a file.
func readSource(_ path: String, maximumBytes: Int, timeout: TimeInterval = 60) async throws -> [UInt8] {
    if path.hasPrefix("https://") || path.hasPrefix("http://") {
        do {
            guard case .body(let bytes, _, _) = try await GuardedHTTPTransport(allowPrivateAddresses: true).get(url: path, ifNoneMatch: nil, ifModifiedSince: nil, timeout: timeout,
                                                                                    maximumBytes: maximumBytes) else {
                throw UsageError("\(path) answered 304 to an unconditional request")
            }
            return bytes
        } catch let error as HTTPTransportError {
            throw UsageError("cannot download \(path): \(error)")
        }
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
    return [UInt8](data)
}
