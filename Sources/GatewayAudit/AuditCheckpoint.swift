import CodedErrors
import Crypto
import Foundation
import GatewayStorage

/// A signed statement of the audit chain's head: "record `sequence` has hash `hash`", ES256 with one of the
/// gateway's keys, written to a checkpoint file outside the database (and to the log). A database whose newest
/// records were cut off no longer reaches the last checkpoint's head, which `cnsgw audit verify --checkpoint FILE`
/// reports; the hash chain alone cannot see a cut at its end.
public struct AuditCheckpoint: Sendable, Hashable, Codable {
    public var sequence: Int64
    public var hash: String
    public var time: Date
    /// The signing key's id and its public key (PEM), so a checkpoint can be checked against the stored keys.
    public var keyID: String
    public var publicKeyPEM: String
    /// Base64 DER ECDSA signature over ``signedText``.
    public var signature: String

    public var signedText: String { "cnsgw-audit-checkpoint|\(sequence)|\(hash)|\(time.storageMilliseconds)|\(keyID)" }

    /// Signs the head `record` with `privateKeyPEM` (a P-256 key).
    public static func sign(_ record: AuditRecord, keyID: String, privateKeyPEM: String, now: Date) throws -> AuditCheckpoint {
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        var checkpoint = AuditCheckpoint(sequence: record.sequence, hash: record.hash, time: now, keyID: keyID,
                                         publicKeyPEM: key.publicKey.pemRepresentation, signature: "")
        checkpoint.signature = try key.signature(for: Data(checkpoint.signedText.utf8)).derRepresentation.base64EncodedString()
        return checkpoint
    }

    /// The public key (PEM) of a P-256 private key, to compare with ``publicKeyPEM``.
    public static func publicKeyPEM(privateKeyPEM: String) throws -> String {
        try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM).publicKey.pemRepresentation
    }

    /// One JSON line, as the checkpoint file holds it.
    public func line() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func parse(line: String) throws -> AuditCheckpoint {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(AuditCheckpoint.self, from: Data(line.utf8))
    }

    /// Why a checkpoint does not hold for a database.
    public enum Finding: Sendable, Equatable {
        case holds
        case badSignature
        case unknownKey
        /// The database ends before the checkpoint's head: its newest records were removed.
        case truncated(databaseHead: Int64)
        /// The database has the sequence with another hash: the chain was rewritten.
        case rewritten
    }

    /// Checks the signature with the embedded public key, that key against `knownPublicKeys` (the gateway's own
    /// keys, PEM), and the head against `records` (the whole chain, in order).
    public func check(against records: [AuditRecord], knownPublicKeys: Set<String>) -> Finding {
        guard let key = try? P256.Signing.PublicKey(pemRepresentation: publicKeyPEM),
              let der = Data(base64Encoded: signature), let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: der),
              key.isValidSignature(ecdsa, for: Data(signedText.utf8)) else { return .badSignature }
        guard knownPublicKeys.contains(key.pemRepresentation) else { return .unknownKey }
        let head = records.last?.sequence ?? 0
        guard head >= sequence else { return .truncated(databaseHead: head) }
        guard let record = records.first(where: { $0.sequence == sequence }) else {
            // Retention removed it; the chain from later records still covers the checkpoint's successor.
            return records.first.map { $0.sequence > sequence } == true ? .holds : .rewritten
        }
        return record.hash == hash ? .holds : .rewritten
    }
}
